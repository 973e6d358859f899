/** Gzip of large made-up bodies (bombs), written piece by piece so the test never holds the inflated text. */
import zlib from 'node:zlib';

export function gzipPieces(write: (gzip: zlib.Gzip) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const gzip = zlib.createGzip({ level: 9 });
    const out: Buffer[] = [];
    gzip.on('data', (chunk: Buffer) => out.push(chunk));
    gzip.on('end', () => resolve(Buffer.concat(out)));
    gzip.on('error', reject);
    write(gzip);
  });
}
