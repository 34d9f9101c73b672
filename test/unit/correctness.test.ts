// The correctness benchmark's pure measurements: placeholder cuts, values cut for the client, usage read from provider responses, error and overshoot.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chunkBoundaries, cutCoverage, cutsInside, overshoot, placeholderSpans, relativeError, valueCutByChunks } from '../support/correctness-measures';
import { reportedUsage, streamedContentPieces } from '../support/recording-proxy';

describe('correctness measures', () => {
  it('finds placeholders and where chunk boundaries cut them', () => {
    const pieces = ['Dear <PER', 'SON_1>, mail <EMAIL_2>', ' now'];
    const text = pieces.join('');
    const spans = placeholderSpans(text);
    assert.deepEqual(spans.map((span) => text.slice(span.start, span.end)), ['<PERSON_1>', '<EMAIL_2>']);
    const boundaries = chunkBoundaries(pieces);
    assert.deepEqual(boundaries, [9, 31]);
    assert.deepEqual(cutsInside(spans[0]!, boundaries), [4]);
    assert.deepEqual(cutsInside(spans[1]!, boundaries), [], 'a boundary right after a placeholder does not cut it');
    assert.deepEqual(placeholderSpans('a < b and <EMPLOYEE_ID_12> and <lower_1>').length, 1);
  });

  it('tells a value cut across client chunks from one that arrives whole', () => {
    assert.equal(valueCutByChunks('mail maria@example.com now', 'maria@example.com', chunkBoundaries(['mail ', 'maria@example.com', ' now'])), false);
    assert.equal(valueCutByChunks('mail maria@example.com now', 'maria@example.com', chunkBoundaries(['mail maria@', 'example.com now'])), true);
    // The second occurrence is the one cut.
    assert.equal(valueCutByChunks('x1 x1', 'x1', chunkBoundaries(['x1 x', '1'])), true);
    assert.equal(valueCutByChunks('anything', '', [3]), false);
  });

  it('counts the cut positions exercised per placeholder length', () => {
    assert.deepEqual(
      cutCoverage([
        { length: 4, offsets: [1] },
        { length: 4, offsets: [2, 3] },
        { length: 5, offsets: [2] },
        { length: 9, offsets: [] },
      ]),
      { covered: 4, possible: 3 + 4 },
    );
  });

  it('reads the usage a provider reported, whole or streamed, and the streamed pieces', () => {
    assert.deepEqual(reportedUsage({ contentType: 'application/json', responseBody: '{"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}' }), { prompt_tokens: 3, completion_tokens: 4 });
    assert.equal(reportedUsage({ contentType: 'application/json', responseBody: '{"choices":[]}' }), null);
    const stream = [
      'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}',
      'data: {"choices":[{"delta":{"content":"Hel"}}]}',
      'data: {"choices":[{"delta":{"content":"lo"},"finish_reason":null}]}',
      'data: {"choices":[{"delta":{},"finish_reason":"stop"}]}',
      'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}',
      'data: [DONE]',
      '',
    ].join('\n\n');
    assert.deepEqual(reportedUsage({ contentType: 'text/event-stream; charset=utf-8', responseBody: stream }), { prompt_tokens: 5, completion_tokens: 2 });
    assert.deepEqual(streamedContentPieces(stream), ['Hel', 'lo']);
  });

  it('computes relative error and overshoot', () => {
    assert.equal(relativeError(10, 10), 0);
    assert.equal(relativeError(12, 10), 0.2);
    assert.equal(relativeError(0, 0), 0);
    assert.deepEqual(overshoot(2900, 3000), { tokens: 0, percent: 0 });
    assert.deepEqual(overshoot(3150, 3000), { tokens: 150, percent: 5 });
  });
});
