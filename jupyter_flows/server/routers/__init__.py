"""One router per resource; ``create_app`` mounts them under ``/api``.

    POST /api/flows                                FlowCreate -> FlowRegistration
                                                   (201 new version, 200 known spec)
    GET  /api/flows?name&project&limit&offset      -> Page[Flow]
    GET  /api/flows/{id}                           -> Flow
    POST /api/flow_runs                            FlowRunCreate -> FlowRun
                                                   (201 new, 200 same idempotency_key)
    POST /api/flow_runs/batch                      FlowRunBatch -> FlowRunBatchResult
                                                   (up to 1,000 runs, all or none)
    GET  /api/flow_runs?flow_id&flow_name&state&labels&limit&offset -> Page[FlowRun]
    GET  /api/flow_runs/{id}                       -> FlowRun with agent_match
    POST /api/flow_runs/{id}/state                 StateWrite -> FlowRun (409 refused)
    GET  /api/flow_runs/{id}/states                -> [StateRecord]
    POST /api/flow_runs/{id}/heartbeat             RunHeartbeat -> HeartbeatAck (409 lease)
    POST /api/flow_runs/{id}/infrastructure_failure  InfrastructureFailure -> FlowRun
    POST /api/flow_runs/{id}/task_runs             TaskRunStatesWrite -> WriteCount
    GET  /api/flow_runs/{id}/task_runs             -> [TaskRun]
    POST /api/flow_runs/{id}/task_slots            TaskSlotRequest -> TaskSlotGrant (409 lease)
    DELETE /api/flow_runs/{id}/task_slots?task_slug&map_index -> WriteCount
    POST /api/flow_runs/{id}/logs                  [LogWrite] -> WriteCount
    GET  /api/flow_runs/{id}/logs?after&limit      -> LogPage
    POST /api/agents                               AgentCreate -> Agent (same name, same id)
    GET  /api/agents                               -> [Agent]
    GET  /api/agents/{id}                          -> Agent
    POST /api/agents/{id}/heartbeat                -> Agent
    POST /api/agents/{id}/claim?wait=SECONDS       -> Claim, or 204 when nothing is due
    GET  /api/limits                               -> [ConcurrencyLimit]
    PUT  /api/limits/{label|tag}/{name}            LimitSet -> ConcurrencyLimit
    DELETE /api/limits/{label|tag}/{name}          -> ConcurrencyLimit (404 none)
    GET  /api/health                               -> Health (no API key needed)

Payloads are in :mod:`jupyter_flows.api`.
"""
