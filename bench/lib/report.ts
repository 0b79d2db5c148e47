import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPORT_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/benchmarks.md');

const HEADER = `# Benchmarks

Each benchmark measures Tessera against its physical baseline on the same machine, in the
same run, on the same PostgreSQL server: hand-written SQL over a typed table with the
equivalent indexes, or a bare fastify + pg route. Figures are ratios ours / baseline.
Benchmarks are run by hand (not in CI); each section below is rewritten by the run that
produced it, with its command. Run them with \`DATABASE_URL=postgres://... pnpm bench <name>\`
(\`list\`, \`create\` or \`all\`); each run creates its own \`tessera_bench_*\` database and drops it.
`;

/** One line naming where the figures were taken, since they mean nothing without it. */
export function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

/**
 * Replaces this benchmark's section of docs/benchmarks.md (between its markers) and keeps
 * the others, so `list` and `create` can be re-run independently.
 */
export async function writeSection(name: string, body: string): Promise<void> {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  let text = await readFile(REPORT_PATH, 'utf8').catch(() => HEADER);
  const block = `${start}\n${body.trim()}\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from >= 0 && to > from) text = text.slice(0, from) + block + text.slice(to + end.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  await writeFile(REPORT_PATH, text);
}

/**
 * The machine is shared (other work may be running): the 1-minute load average at the
 * start and end of a run says how quiet it was, next to the figures.
 */
export function loadAverage(): string {
  return os.loadavg()[0]!.toFixed(2);
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
