import { Writable } from 'node:stream';

/** A writable that keeps what was written, for CLI output assertions. */
export function captureStream(): Writable & { text(): string } {
  let buf = '';
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buf += chunk.toString('utf8');
      cb();
    },
  }) as Writable & { text(): string };
  w.text = () => buf;
  return w;
}
