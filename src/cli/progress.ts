/** A progress bar on stderr for long CLI runs: redrawn in place on a terminal, a line per tenth elsewhere (logs, CI). */
export interface Progress {
  advance(by?: number): void;
  finish(): void;
}

const WIDTH = 30;

export function createProgress(total: number, label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  let done = 0;
  let lastTenth = -1;
  const line = () => {
    const filled = total === 0 ? WIDTH : Math.round((done / total) * WIDTH);
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${done}/${total}`;
  };
  const draw = () => {
    if (stream.isTTY) {
      stream.write(`\r${line()}`);
      return;
    }
    const tenth = total === 0 ? 10 : Math.floor((done / total) * 10);
    if (tenth !== lastTenth) {
      lastTenth = tenth;
      stream.write(`${line()}\n`);
    }
  };
  draw();
  return {
    advance(by = 1) {
      done = Math.min(total, done + by);
      draw();
    },
    finish() {
      done = total;
      draw();
      if (stream.isTTY) stream.write('\n');
    },
  };
}
