// The stand-in's error log, kept in memory so tests can read what Kong would have logged.

export interface Logger {
  error(line: string): void;
  warn(line: string): void;
  info(line: string): void;
}

export class MemoryLog implements Logger {
  readonly lines: Array<{ level: 'error' | 'warn' | 'info'; line: string }> = [];
  constructor(private readonly echo = process.env.KONG_STAND_IN_LOG === '1') {}
  error(line: string): void {
    this.push('error', line);
  }
  warn(line: string): void {
    this.push('warn', line);
  }
  info(line: string): void {
    this.push('info', line);
  }
  private push(level: 'error' | 'warn' | 'info', line: string): void {
    this.lines.push({ level, line });
    if (this.lines.length > 10_000) this.lines.shift();
    if (this.echo) process.stderr.write(`[kong-stand-in] ${level}: ${line}\n`);
  }
}
