import { afterEach, describe, expect, it, vi } from 'vitest';

import { RunModel } from '../src/models/runModel';
import type { LogRecord, TaskRun } from '../src/types';
import { fakeApi, flow, flowRun, withStreams } from './fixtures';

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
      'flow_runs/run1/restart': () => ({ ...state.run, state: 'Scheduled', state_message: 'restarted (attempt 2)' }),
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
      { task_slug: 'n', map_index: null, state: 'Success', message: null, timestamp: at(1100), started: null, location: null },
      { task_slug: 'extract-1', map_index: null, state: 'Running', message: null, timestamp: at(1200), started: null, location: null }
    ];
    await model.refresh();
    let rows = model.taskRows(T0 + 2000);
    expect(rows.find(row => row.slug === 'extract-1')).toMatchObject({ state: 'Running', duration: 800 });
    expect(rows.find(row => row.slug === 'total-1')).toMatchObject({ state: 'Pending', duration: null });
    state.taskRuns = [
      ...state.taskRuns.slice(0, 1),
      { task_slug: 'extract-1', map_index: null, state: 'Success', message: null, timestamp: at(1700), started: null, location: null },
      { task_slug: 'double-1', map_index: null, state: 'Mapped', message: null, timestamp: at(2500), started: null, location: null },
      { task_slug: 'double-1', map_index: 0, state: 'Success', message: null, timestamp: at(2400), started: null, location: null },
      { task_slug: 'double-1', map_index: 1, state: 'Failed', message: 'boom', timestamp: at(2450), started: null, location: null }
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

  it('times a finished run it never saw running from when the backend says each task started', async () => {
    const { model, state } = setUp();
    state.run = flowRun({ state: 'Success' });
    state.taskRuns = [
      { task_slug: 'extract-1', map_index: null, state: 'Success', message: null, timestamp: at(4000), started: at(1500), location: null }
    ];
    await model.refresh();
    expect(model.taskRows(T0 + 9000).find(row => row.slug === 'extract-1')).toMatchObject({ duration: 2500 });
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

  describe('following the events stream', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    function following() {
      vi.useFakeTimers();
      const { model: plain, state, calls } = setUp();
      const { api, sources } = withStreams(plain.api);
      const model = new RunModel(api, 'run1');
      let signals = 0;
      model.changed.connect(() => {
        signals += 1;
      });
      return { model, state, calls, sources, signals: () => signals };
    }

    it('applies states, task runs and logs as they come, once each', async () => {
      const { model, state, sources, signals } = following();
      state.logs = [log(1)];
      await model.refresh();
      model.follow();
      expect(sources.map(s => s.endPoint)).toEqual(['flow_runs/run1/events']);
      const stream = sources[0]!;
      // the stream starts from the beginning: what refresh loaded is not added twice
      stream.emit('flow_run_state', { seq: 1, state: 'Scheduled', message: 'created', timestamp: at(0), version: 1 }, '1');
      stream.emit('log', log(1), '2');
      stream.emit('task_run_state', { task_slug: 'extract-1', map_index: null, state: 'Running', message: null, timestamp: at(2000) }, '3');
      stream.emit('log', log(2, 'extract-1', 2500), '4');
      stream.emit('task_run_state', { task_slug: 'extract-1', map_index: null, state: 'Success', message: 'done', timestamp: at(4000) }, '5');
      stream.emit('flow_run_state', { seq: 6, state: 'Success', message: 'all good', timestamp: at(5000), version: 5 }, '6');
      const before = signals();
      vi.advanceTimersByTime(50);
      expect(signals()).toBe(before + 1); // one signal for the burst
      expect(model.logs.map(record => record.id)).toEqual([1, 2]);
      expect(model.states.map(s => s.state)).toEqual(['Scheduled', 'Running', 'Success']);
      expect(model.run?.state).toBe('Success');
      expect(model.taskRuns).toEqual([{ task_slug: 'extract-1', map_index: null, state: 'Success', message: 'done', timestamp: at(4000), started: at(2000), location: null }]);
      expect(model.taskRows(T0 + 9000).find(row => row.slug === 'extract-1')!.duration).toBe(2000);
    });

    it('restarts a failed run and follows it again to its new end', async () => {
      const { model, state, calls, sources } = following();
      state.run = flowRun({ state: 'Failed' });
      await model.refresh();
      expect(model.canRestart).toBe(true);
      expect(model.canCancel).toBe(false);
      await model.restart();
      expect(model.run?.state).toBe('Scheduled');
      expect(model.canRestart).toBe(false);
      expect(calls.filter(c => c.method === 'POST').map(c => [c.endPoint, c.body])).toEqual([['flow_runs/run1/restart', {}]]);
      expect(sources.map(s => s.endPoint)).toEqual(['flow_runs/run1/events']); // following again
      expect(model.isFollowing).toBe(true);
    });

    it('stops at end and reads the run once more', async () => {
      const { model, state, calls, sources } = following();
      await model.refresh();
      model.follow();
      state.run = flowRun({ state: 'Failed' });
      const runReads = () => calls.filter(c => c.endPoint === 'flow_runs/run1').length;
      const reads = runReads();
      sources[0]!.emit('end', { state: 'Failed' }, '9');
      await vi.runAllTimersAsync();
      expect(sources[0]!.closed).toBe(true);
      expect(model.isFollowing).toBe(false);
      expect(runReads()).toBe(reads + 1);
      expect(model.run?.state).toBe('Failed');
    });

    it('says why when the stream fails, and resumes after the last event', async () => {
      const { model, state, sources } = following();
      await model.refresh();
      model.follow();
      sources[0]!.emit('log', log(1), '4');
      state.run = new Error('backend at X is not reachable: refused') as never;
      sources[0]!.fail(true);
      await vi.advanceTimersByTimeAsync(0);
      expect(model.error).toBe('backend at X is not reachable: refused');
      await vi.advanceTimersByTimeAsync(1000);
      expect(sources.map(s => s.endPoint)).toEqual(['flow_runs/run1/events', 'flow_runs/run1/events?after=4']);
      state.run = flowRun({ state: 'Running' });
      sources[1]!.open();
      await vi.advanceTimersByTimeAsync(0);
      expect(model.error).toBeNull();
    });
  });
});
