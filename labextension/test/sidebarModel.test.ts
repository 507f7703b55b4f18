import { describe, expect, it, vi } from 'vitest';

import { APIError } from '../src/models/errors';
import { SidebarModel, summarizeFlows } from '../src/models/sidebarModel';
import { fakeApi, flow, flowRun, withStreams } from './fixtures';

const CONFIG = { backend_url: 'http://127.0.0.1:1234', embedded: true, source: 'embedded',
                 api_key_configured: false, status: 'ready', agent: null };
const AGENT = { id: 'a1', name: 'lab', type: 'local', labels: ['gpu'], created: '', last_heartbeat: '', online: true };

describe('summarizeFlows', () => {
  it('keeps the newest version of each flow, sorted by name', () => {
    const flows = summarizeFlows([
      flow({ id: 'b1', name: 'b', version: 1 }),
      flow({ id: 'a2', name: 'a', version: 2 }),
      flow({ id: 'a1', name: 'a', version: 1 })
    ]);
    expect(flows.map(f => [f.name, f.latest.id, f.versions])).toEqual([['a', 'a2', 2], ['b', 'b1', 1]]);
  });
});

describe('SidebarModel', () => {
  it('loads flows, runs and agents and looks up why waiting runs cannot start', async () => {
    const waiting = flowRun({ id: 'w', state: 'Scheduled', labels: ['gpu-big'] });
    const done = flowRun({ id: 'd', state: 'Success' });
    const { api, calls } = fakeApi({
      config: CONFIG,
      flows: { items: [flow()], total: 1, limit: 200, offset: 0 },
      flow_runs: { items: [waiting, done], total: 2, limit: 50, offset: 0 },
      'flow_runs/w': { ...waiting, agent_match: { matched: false, agent_ids: [], explanation: "no online agent has label 'gpu-big'" } },
      agents: [AGENT, { ...AGENT, id: 'a2', name: 'old', online: false }]
    });
    const model = new SidebarModel(api);
    const changed = vi.fn();
    model.changed.connect(changed);
    expect(model.status).toBe('connecting');
    const busy = await model.refresh();
    expect(busy).toBe(true);
    expect(changed).toHaveBeenCalledTimes(1);
    expect(model.status).toBe('connected');
    expect(model.config?.backend_url).toBe('http://127.0.0.1:1234');
    expect(model.flows.map(f => f.name)).toEqual(['etl']);
    expect(model.runs.map(r => r.id)).toEqual(['w', 'd']);
    expect(model.onlineAgents.map(a => a.name)).toEqual(['lab']);
    expect(model.unmatchedReason(waiting)).toBe("no online agent has label 'gpu-big'");
    expect(model.unmatchedReason(done)).toBeNull();
    // only the waiting run is looked up one by one
    expect(calls.filter(c => c.endPoint.startsWith('flow_runs/')).map(c => c.endPoint)).toEqual(['flow_runs/w']);
  });

  it('says when a concurrency limit holds a waiting run back', async () => {
    const held = flowRun({ id: 'h', state: 'Scheduled', labels: ['db'] });
    const reason = "waiting for a slot: runs with label 'db' are limited to 1 at once (1 hold one)";
    const { api } = fakeApi({
      config: CONFIG,
      flows: { items: [flow()], total: 1, limit: 200, offset: 0 },
      flow_runs: { items: [held], total: 1, limit: 50, offset: 0 },
      'flow_runs/h': { ...held, agent_match: { matched: true, agent_ids: ['a1'], explanation: '1 online agent(s) can run it' }, waiting_for: reason },
      agents: [AGENT]
    });
    const model = new SidebarModel(api);
    await model.refresh();
    expect(model.unmatchedReason(held)).toBe(reason);
  });

  it('passes the filters to the backend', async () => {
    const { api, calls } = fakeApi({
      config: CONFIG,
      flows: { items: [], total: 0, limit: 200, offset: 0 },
      flow_runs: { items: [], total: 0, limit: 50, offset: 0 },
      agents: []
    });
    const model = new SidebarModel(api);
    model.setFilter({ flowName: 'etl job', state: 'Failed' });
    expect(await model.refresh()).toBe(false);
    expect(calls.find(c => c.endPoint.startsWith('flow_runs'))!.endPoint)
      .toBe('flow_runs?flow_name=etl+job&state=Failed&limit=50');
    expect(model.flowNames).toEqual(['etl job']);
  });

  it('shows the proxy error and recovers', async () => {
    let down = true;
    const unreachable = new APIError(502, 'backend at http://127.0.0.1:9 is not reachable: Connection refused');
    const { api } = fakeApi({
      config: CONFIG,
      flows: () => (down ? unreachable : { items: [], total: 0, limit: 200, offset: 0 }),
      flow_runs: { items: [], total: 0, limit: 50, offset: 0 },
      agents: []
    });
    const model = new SidebarModel(api);
    expect(await model.refresh()).toBe(false);
    expect(model.status).toBe('error');
    expect(model.error).toBe(unreachable.message);
    down = false;
    await model.refresh();
    expect(model.status).toBe('connected');
    expect(model.error).toBeNull();
  });
});

describe('SidebarModel without the server extension', () => {
  it('says the server extension is not enabled', async () => {
    const { api } = fakeApi({});
    const model = new SidebarModel(api);
    await model.refresh();
    expect(model.status).toBe('error');
    expect(model.error).toMatch(/server extension is not enabled/);
  });
});

describe('SidebarModel following the change feed', () => {
  it('reads the lists when the feed is ready and once per burst of changes', async () => {
    vi.useFakeTimers();
    try {
      const flows = [flow()];
      const { api: plain, calls } = fakeApi({
        config: CONFIG,
        flows: () => ({ items: flows, total: flows.length, limit: 200, offset: 0 }),
        flow_runs: { items: [], total: 0, limit: 50, offset: 0 },
        agents: [AGENT]
      });
      const { api, sources } = withStreams(plain);
      const model = new SidebarModel(api);
      model.follow();
      expect(sources.map(s => s.endPoint)).toEqual(['events']);
      const flowReads = () => calls.filter(c => c.endPoint.startsWith('flows')).length;
      expect(flowReads()).toBe(0); // nothing is read until the feed is live
      sources[0]!.emit('ready', { instance: 'i' }, 'i:0');
      await vi.advanceTimersByTimeAsync(200);
      expect(flowReads()).toBe(1);
      flows.push(flow({ id: 'f2', name: 'other' }));
      for (let n = 1; n <= 5; n++) {
        sources[0]!.emit(n % 2 ? 'flow' : 'flow_run', {}, `i:${n}`);
      }
      await vi.advanceTimersByTimeAsync(200);
      expect(flowReads()).toBe(2);
      expect(model.flows.map(f => f.name)).toEqual(['etl', 'other']);
      await vi.advanceTimersByTimeAsync(60000);
      expect(flowReads()).toBe(2); // no polling
      model.unfollow();
      expect(sources[0]!.closed).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('SidebarModel schedules', () => {
  it('reads the schedule of scheduled flows only, and pauses one', async () => {
    const spec = { ...flow().spec, schedule: { type: 'schedule', clocks: [] } as never };
    const scheduled = flow({ id: 'f2', name: 'daily', spec });
    const answer = (active: boolean) => ({
      flow_id: 'f2', name: 'daily', project: 'default', version: 1, schedule: spec.schedule,
      active, description: 'every day at 06:00 UTC', upcoming_runs: active ? 2 : 0,
      next_times: ['2026-12-03T06:00:00Z', '2026-12-04T06:00:00Z']
    });
    const { api, calls } = fakeApi({
      config: CONFIG,
      flows: { items: [flow(), scheduled], total: 2, limit: 200, offset: 0 },
      flow_runs: { items: [], total: 0, limit: 50, offset: 0 },
      'flows/f2/schedule': (_: string, body?: { active: boolean }) => answer(body ? body.active : true),
      agents: []
    });
    const model = new SidebarModel(api);
    await model.refresh();
    expect([...model.schedules.keys()]).toEqual(['daily']);
    expect(model.schedules.get('daily')!.active).toBe(true);
    expect(calls.filter(c => c.endPoint.endsWith('/schedule')).map(c => c.method)).toEqual(['GET']);
    await model.setScheduleActive('daily', false);
    expect(calls[calls.length - 1]).toEqual({ endPoint: 'flows/f2/schedule', method: 'POST', body: { active: false } });
    expect(model.schedules.get('daily')!.active).toBe(false);
  });
});
