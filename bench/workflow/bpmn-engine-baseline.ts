import { Engine } from 'bpmn-engine';
import { BPMN_ENGINE_XML } from './diagram';

export interface BaselineResult {
  instances: number;
  seconds: number;
  perSecond: number;
  /** instances that took the long path and updated their record (all of them, as in ours) */
  updated: number;
}

/**
 * bpmn-engine running the same diagram in memory: no database, nothing durable; the
 * "record" it updates is a JS object. `concurrency` instances run at once in one process.
 */
export async function runBpmnEngineBaseline(instances: number, concurrency: number): Promise<BaselineResult> {
  const records = new Map<number, { amount: number; stage: string; left?: number; right?: number }>();
  let updated = 0;
  const services = {
    updateRecord(ctx: { environment: { variables: { id: number } } }, next: (err: Error | null) => void) {
      records.get(ctx.environment.variables.id)!.stage = 'qualified';
      updated++;
      next(null);
    },
    setLeft(ctx: { environment: { variables: { id: number; left?: number } } }, next: (err: Error | null) => void) {
      ctx.environment.variables.left = 1;
      next(null);
    },
    setRight(ctx: { environment: { variables: { id: number; right?: number } } }, next: (err: Error | null) => void) {
      ctx.environment.variables.right = 2;
      next(null);
    },
  };
  // The diagram is parsed once and shared, as a long-lived process would: the figure is execution, not XML parsing.
  const template = new Engine({ name: 'template' }) as unknown as { _serializeSource(xml: string): Promise<unknown> };
  const sourceContext = await template._serializeSource(BPMN_ENGINE_XML);
  const runOne = async (id: number) => {
    records.set(id, { amount: 1000 + id, stage: 'new' });
    const engine = new Engine({ name: `bench-${id}`, sourceContext: sourceContext as never, services, variables: { id, amount: 1000 + id } });
    const ended = engine.waitFor('end');
    await engine.execute();
    await ended;
  };
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < instances) await runOne(next++);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { instances, seconds, perSecond: instances / seconds, updated };
}
