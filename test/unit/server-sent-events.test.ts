// The SSE parser yields the same events however the bytes are split.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ServerSentEventParser, formatServerSentEvent } from '../../plugins/core/http/server-sent-events';

const STREAM = 'data: {"a":"héllo ✓"}\n\n: keep-alive comment\n\nevent: message_start\ndata: {"b":1}\n\ndata: line one\ndata: line two\n\ndata: [DONE]\n\n';
const EXPECTED = [
  { event: null, data: '{"a":"héllo ✓"}' },
  { event: 'message_start', data: '{"b":1}' },
  { event: null, data: 'line one\nline two' },
  { event: null, data: '[DONE]' },
];

describe('ServerSentEventParser', () => {
  it('parses events split at every byte boundary, multi-byte characters included', () => {
    const bytes = Buffer.from(STREAM, 'utf8');
    for (let cut = 0; cut <= bytes.length; cut += 1) {
      const parser = new ServerSentEventParser();
      const events = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut)), ...parser.end()];
      assert.deepEqual(events, EXPECTED, `split at byte ${cut}`);
    }
  });

  it('parses one byte at a time and CRLF line ends', () => {
    const parser = new ServerSentEventParser();
    const events = [];
    for (const byte of Buffer.from(STREAM.replace(/\n/g, '\r\n'), 'utf8')) events.push(...parser.push(Uint8Array.of(byte)));
    events.push(...parser.end());
    assert.deepEqual(events, EXPECTED);
  });

  it('keeps a final event that lacks the closing blank line', () => {
    const parser = new ServerSentEventParser();
    assert.deepEqual([...parser.push(Buffer.from('data: tail')), ...parser.end()], [{ event: null, data: 'tail' }]);
  });

  it('formats what it parses back to the same events', () => {
    const text = EXPECTED.map(formatServerSentEvent).join('');
    const parser = new ServerSentEventParser();
    assert.deepEqual([...parser.push(Buffer.from(text)), ...parser.end()], EXPECTED);
  });
});
