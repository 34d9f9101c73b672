// Incremental parser and writer for Server-Sent Events, as providers send them and clients expect them.

export interface ServerSentEvent {
  /** The `event:` field, or null when absent (OpenAI sends none; Anthropic names every event). */
  event: string | null;
  /** The `data:` lines joined with "\n". */
  data: string;
}

/**
 * Feeds bytes in, gets whole events out. Events may be split anywhere across chunks, including
 * inside a multi-byte UTF-8 character, so decoding is streaming too.
 */
export class ServerSentEventParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';

  push(bytes: Uint8Array): ServerSentEvent[] {
    this.buffer += this.decoder.decode(bytes, { stream: true });
    // A chunk ending in \r may be half of a \r\n: keep it until the next chunk says.
    const heldCarriageReturn = this.buffer.endsWith('\r');
    if (heldCarriageReturn) this.buffer = this.buffer.slice(0, -1);
    const events = this.drain();
    if (heldCarriageReturn) this.buffer += '\r';
    return events;
  }

  /** Whatever complete event remains when the stream ends without a trailing blank line. */
  end(): ServerSentEvent[] {
    this.buffer += this.decoder.decode();
    const events = this.drain();
    if (this.buffer.trim() !== '') events.push(...parseBlock(this.buffer));
    this.buffer = '';
    return events;
  }

  private drain(): ServerSentEvent[] {
    const events: ServerSentEvent[] = [];
    // The spec allows \n, \r\n and \r line ends; normalise once, then split on blank lines.
    this.buffer = this.buffer.replace(/\r\n?/g, '\n');
    let boundary = this.buffer.indexOf('\n\n');
    while (boundary !== -1) {
      events.push(...parseBlock(this.buffer.slice(0, boundary)));
      this.buffer = this.buffer.slice(boundary + 2);
      boundary = this.buffer.indexOf('\n\n');
    }
    return events;
  }
}

function parseBlock(block: string): ServerSentEvent[] {
  let event: string | null = null;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue; // comments keep connections alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length === 0 && event === null ? [] : [{ event, data: data.join('\n') }];
}

export function formatServerSentEvent(event: ServerSentEvent): string {
  const head = event.event === null ? '' : `event: ${event.event}\n`;
  return `${head}${event.data.split('\n').map((line) => `data: ${line}`).join('\n')}\n\n`;
}
