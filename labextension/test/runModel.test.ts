import { describe, expect, it } from 'vitest';

import { RunModel } from '../src/models/runModel';
import type { LogRecord, TaskRun } from '../src/types';
import { fakeApi, flow, flowRun } from './fixtures';

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const at = (ms: number): string => new Date(T0 + ms).toISOString();

function log(id: number, task_slug: string | null = null, ms = 0): LogRecord {
  return { id, flow_run_id: 'run1', timestamp: at(ms), level: 'INFO', message: `line ${id}`, task_slug, map_index: null };
}

describe('RunModel', () => {
  function setUp() {
    const state = {
      run: flowRun({ state: 'Running' }),
      taskRuns: [] as TaskRun[],
      logs: [] as LogRecord[]
    };
    const { api, calls } = fakeApi({
      'flow_runs/run1': () => state.run,
      'flow_runs/run1/states': [
        { id: 1, state: 'Scheduled', message: 'created', timestamp: at(0), version: 1 },
        { id: 2, state: 'Running', message: 'started', timestamp: at(1000), version: 3 }
      ],
      'flow_runs/run1/task_runs': () => state.taskRuns,
      'flow_runs/run1/logs': (endPoint: string) => {
        const after = Number(new URLSearchParams(endPoint.split('?')[1]).get('after'));
        const items = state.logs.filter(record => record.id > after);
        return { items, next_after: items.length ? items[items.length - 1]!.id : after };
      },
      'flow_runs/run1/state': (_: string, body: { state: string }) => ({ ...state.run, state: body.state }),
      'flow_runs/run1/cancel': () => ({ ...state.run, state: 'Cancelling' }),
      'flows/flow1': flow(),
      flow_runs: (_: string, body: unknown) => flowRun({ id: 'run2', parameters: (body as { parameters: never }).parameters })
    });
    return { model: new RunModel(api, 'run1'), state, calls };
  }

  it('loads the run, its flow once, and lays out the DAG', async () => {
    const { model, calls } = setUp();
    expect(await model.refresh()).toBe(true);
    await model.refresh();
    expect(model.flow?.name).toBe('etl');
    expect(model.layout?.nodes.map(node => node.slug)).toEqual(['n', 'extract-1', 'double-1', 'total-1']);
    expect(calls.filter(c => c.endPoint === 'flows/flow1')).toHaveLength(1);
    expect(model.states.map(s => s.state)).toEqual(['Scheduled', 'Running']);
    expect(model.startedAt).toBe(T0 + 1000);
  });

  it('reads logs after its cursor only', async () => {
    const { model, state, calls } = setUp();
    state.logs = [log(1), log(2)];
    await model.refresh();
    state.logs.push(log(3));
    await model.refresh();
    expect(model.logs.map(record => record.id)).toEqual([1, 2, 3]);
    expect(model.logCursor).toBe(3);
    const logCalls = calls.filter(c => c.endPoint.includes('/logs')).map(c => c.endPoint);
    expect(logCalls).toEqual(['flow_runs/run1/logs?after=0&limit=500', 'flow_runs/run1/logs?after=2&limit=500']);
  });

  it('times tasks from when they were seen running', async () => {
    const { model, state } = setUp();
    state.taskRuns = [
      { task_slug: 'n', map_index: null, state: 'Success', message: null, timestamp: at(1100) },
      { task_slug: 'extract-1', map_index: null, state: 'Running', message: null, timestamp: at(1200) }
    ];
    await model.refresh();
    let rows = model.taskRows(T0 + 2000);
    expect(rows.find(row => row.slug === 'extract-1')).toMatchObject({ state: 'Running', duration: 800 });
    expect(rows.find(row => row.slug === 'total-1')).toMatchObject({ state: 'Pending', duration: null });
    state.taskRuns = [
      ...state.taskRuns.slice(0, 1),
      { task_slug: 'extract-1', map_index: null, state: 'Success', message: null, timestamp: at(1700) },
      { task_slug: 'double-1', map_index: null, state: 'Mapped', message: null, timestamp: at(2500) },
      { task_slug: 'double-1', map_index: 0, state: 'Success', message: null, timestamp: at(2400) },
      { task_slug: 'double-1', map_index: 1, state: 'Failed', message: 'boom', timestamp: at(2450) }
    ];
    state.logs = [log(1, 'double-1', 2000)];
    state.run = flowRun({ state: 'Failed' });
    expect(await model.refresh()).toBe(false);
    rows = model.taskRows(T0 + 9000);
    expect(rows.find(row => row.slug === 'extract-1')).toMatchObject({ state: 'Success', duration: 500, offset: 700 });
    expect(rows.find(row => row.slug === 'double-1')).toMatchObject({
      state: 'Mapped', children: { total: 2, finished: 2, failed: 1 }, duration: 500
    });
    expect(rows.find(row => row.slug === 'n')!.duration).toBeNull();
    expect(model.nodeStates().get('double-1')!.state).toBe('Mapped');
  });

  it('cancels and runs again with new parameters and the same labels', async () => {
    const { model, state, calls } = setUp();
    state.run = flowRun({ state: 'Running', labels: ['gpu'] });
    await model.refresh();
    expect(model.canCancel).toBe(true);
    await model.cancel();
    expect(model.run?.state).toBe('Cancelling');
    expect(model.canCancel).toBe(false);
    const created = await model.runAgain({ n: 5 });
    expect(created.id).toBe('run2');
    expect(calls.filter(c => c.method === 'POST').map(c => [c.endPoint, c.body])).toEqual([
      ['flow_runs/run1/cancel', { message: 'cancelled from JupyterLab' }],
      ['flow_runs', { flow_id: 'flow1', parameters: { n: 5 }, labels: ['gpu'] }]
    ]);
  });

  it('keeps the error and the data it had', async () => {
    const { model, state } = setUp();
    await model.refresh();
    state.run = new Error('backend at X is not reachable: refused') as never;
    expect(await model.refresh()).toBe(false);
    expect(model.error).toBe('backend at X is not reachable: refused');
    expect(model.flow?.name).toBe('etl');
  });
});
