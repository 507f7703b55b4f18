/**
 * Generated from openapi.json by scripts/api-types.mjs (openapi-typescript): do not edit.
 * After changing a wire model, run `.venv/bin/python scripts/api_types.py`.
 */
export interface paths {
    "/api/agents": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List Agents
         * @description All agents by name; ``online`` means a heartbeat (or claim) within ``agent_timeout``.
         */
        get: operations["list_agents_api_agents_get"];
        put?: never;
        /**
         * Register Agent
         * @description Agents are known by name: registering a name again updates that agent and keeps its id.
         */
        post: operations["register_agent_api_agents_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/agents/{agent_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get Agent */
        get: operations["get_agent_api_agents__agent_id__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/agents/{agent_id}/claim": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Claim
         * @description The oldest due Scheduled run whose labels are all among the agent's, now Submitted
         *     and leased to this agent; waits up to ``wait`` seconds for one, else 204.
         */
        post: operations["claim_api_agents__agent_id__claim_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/agents/{agent_id}/heartbeat": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Agent Heartbeat */
        post: operations["agent_heartbeat_api_agents__agent_id__heartbeat_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Change Feed
         * @description Server-Sent Events: ``ready`` first (the feed is live: load the lists now), then one
         *     ``flow``, ``flow_run`` or ``agent`` event per change, with the object as it is now;
         *     ``reset`` when changes were missed (reload the lists).
         */
        get: operations["change_feed_api_events_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/flow_runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List Flow Runs
         * @description Newest first (with ``upcoming``: soonest to start first); ``agent_match`` is only
         *     filled in by ``GET /flow_runs/{id}``.
         */
        get: operations["list_flow_runs_api_flow_runs_get"];
        put?: never;
        /**
         * Create Flow Run
         * @description A new run in state Scheduled; an existing run when the idempotency key was used.
         */
        post: operations["create_flow_run_api_flow_runs_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/flow_runs/{flow_run_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get Flow Run
         * @description One run, with ``agent_match``: can an online agent run it, and if not, why not.
         */
        get: operations["get_flow_run_api_flow_runs__flow_run_id__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/flow_runs/{flow_run_id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel Flow Run
         * @description Cancel a run: one nobody runs yet (Scheduled, Paused) is Cancelled at once; a claimed
         *     one (Submitted, Running) becomes Cancelling, and its flow-run process (or, after the
         *     grace period, its agent) ends it Cancelled; a finished run is refused (409).
         */
        post: operations["cancel_flow_run_api_flow_runs__flow_run_id__cancel_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/flow_runs/{flow_run_id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Run Events
         * @description A run's flow-run states, task-run states and logs, in ``seq`` order after ``after``
         *     (or ``Last-Event-ID``); as a stream, ``end`` follows the last event of a finished run.
         */
        get: operations["run_events_api_flow_runs__flow_run_id__events_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/flow_runs/{flow_run_id}/heartbeat": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Run Heartbeat
         * @description Renew the run's lease for another ``lease_timeout`` seconds. The answer's ``state``
         *     says ``Cancelling`` once a cancel was requested (the heartbeat's way of telling the
         *     flow-run process and the agent, besides the events stream).
         */
        post: operations["run_heartbeat_api_flow_runs__flow_run_id__heartbeat_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/flow_runs/{flow_run_id}/infrastructure_failure": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Infrastructure Failure
         * @description The process running the flow is gone: a Submitted or Running run is Crashed now (and
         *     rescheduled if it has retries left); a finished run is left as it is.
         */
        post: operations["infrastructure_failure_api_flow_runs__flow_run_id__infrastructure_failure_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/flow_runs/{flow_run_id}/logs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read Logs
         * @description Logs with id > ``after``, in the order they were written.
         */
        get: operations["read_logs_api_flow_runs__flow_run_id__logs_get"];
        put?: never;
        /**
         * Write Logs
         * @description Append logs; no lease needed (a run's last lines may arrive after it finished).
         */
        post: operations["write_logs_api_flow_runs__flow_run_id__logs_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/flow_runs/{flow_run_id}/restart": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Restart Flow Run
         * @description Restart a Failed, Crashed, TimedOut, TriggerFailed or Cancelled run: the same run goes
         *     back to Scheduled (an agent claims it again) and only its task runs that did not succeed
         *     with a checkpointed result run again (with ``from_task``, also that task and everything
         *     downstream of it). Any other state is refused (409).
         */
        post: operations["restart_flow_run_api_flow_runs__flow_run_id__restart_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/flow_runs/{flow_run_id}/state": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Set Flow Run State
         * @description Checks, in order: ``expected_version``, the lease, then the transition table.
         */
        post: operations["set_flow_run_state_api_flow_runs__flow_run_id__state_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/flow_runs/{flow_run_id}/states": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read Flow Run States
         * @description Every state the run has been in, oldest first.
         */
        get: operations["read_flow_run_states_api_flow_runs__flow_run_id__states_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/flow_runs/{flow_run_id}/task_runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read Task Runs
         * @description Ordered by task slug, then map index (the parent before its children).
         */
        get: operations["read_task_runs_api_flow_runs__flow_run_id__task_runs_get"];
        put?: never;
        /**
         * Set Task Run States
         * @description Upsert each task run's state; a write older than the stored state is ignored (writes
         *     from several workers may arrive out of order). ``count`` is how many were applied.
         */
        post: operations["set_task_run_states_api_flow_runs__flow_run_id__task_runs_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/flow_runs/{flow_run_id}/task_slots": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Take Slots
         * @description One slot of each of the task run's limited tags, all or none; ``granted`` False
         *     (with the reason) when one is full: ask again later. Needs the run's live lease.
         */
        post: operations["take_slots_api_flow_runs__flow_run_id__task_slots_post"];
        /**
         * Release Slots
         * @description Give back the task run's slots (``count``: how many it held). No lease is needed: a
         *     run that lost its lease holds no slots that count.
         */
        delete: operations["release_slots_api_flow_runs__flow_run_id__task_slots_delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/flow_runs/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create Flow Runs
         * @description Many runs in one transaction, all or none (a refused one names its index); each
         *     answered in order, an existing one for an idempotency key already used.
         */
        post: operations["create_flow_runs_api_flow_runs_batch_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/flows": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List Flows
         * @description Newest first; archived flows only with ``archived=true``.
         */
        get: operations["list_flows_api_flows_get"];
        put?: never;
        /**
         * Register Flow
         * @description A new version when the spec changed; the same spec returns its existing version.
         */
        post: operations["register_flow_api_flows_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/flows/{flow_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get Flow */
        get: operations["get_flow_api_flows__flow_id__get"];
        put?: never;
        post?: never;
        /**
         * Remove Flow
         * @description Archive a flow version (its runs kept), or delete it with its runs.
         */
        delete: operations["remove_flow_api_flows__flow_id__delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/flows/{flow_id}/schedule": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get Schedule
         * @description The schedule the backend runs for this flow: its latest version's (any version's id
         *     names the flow), whether it is active, its next five times and its upcoming runs.
         */
        get: operations["get_schedule_api_flows__flow_id__schedule_get"];
        put?: never;
        /**
         * Set Schedule
         * @description Pause (``active: false``: the flow's unclaimed scheduled runs are deleted) or resume
         *     (``active: true``: its upcoming runs are made again at once) the flow's schedule.
         */
        post: operations["set_schedule_api_flows__flow_id__schedule_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Health */
        get: operations["health_api_health_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/limits": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List Limits
         * @description Every limit by kind and name, with how many runs hold one of its slots now.
         */
        get: operations["list_limits_api_limits_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/limits/{kind}/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Set Limit
         * @description Create or change the limit; runs already holding slots keep them.
         */
        put: operations["set_limit_api_limits__kind___name__put"];
        post?: never;
        /**
         * Delete Limit
         * @description Remove the limit (its runs are no longer held back); answers what it was.
         */
        delete: operations["delete_limit_api_limits__kind___name__delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * Add
         * @description Move by ``interval``: a day or more in wall-clock time (06:00 stays 06:00 across
         *     daylight saving), less than that in elapsed time. Negative moves earlier.
         */
        Add: {
            /**
             * Interval
             * Format: duration
             * @description How far to move (ISO 8601 duration in JSON).
             */
            interval: string;
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "add";
        };
        /** Agent */
        Agent: {
            /**
             * Created
             * Format: date-time
             */
            created: string;
            /** Id */
            id: string;
            /** Labels */
            labels: string[];
            /**
             * Last Heartbeat
             * Format: date-time
             */
            last_heartbeat: string;
            /** Name */
            name: string;
            /** Online */
            online: boolean;
            /** Type */
            type: string;
        };
        /** AgentCreate */
        AgentCreate: {
            /** Labels */
            labels?: string[];
            /** Name */
            name: string;
            /**
             * Type
             * @default local
             */
            type: string;
        };
        /**
         * AgentMatch
         * @description Whether an online agent can run this flow run, and if not, why not.
         */
        AgentMatch: {
            /** Agent Ids */
            agent_ids: string[];
            /** Explanation */
            explanation: string;
            /** Matched */
            matched: boolean;
        };
        /**
         * AtTime
         * @description At wall-clock time ``time`` of any day.
         */
        AtTime: {
            /**
             * Time
             * Format: time
             */
            time: string;
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "at_time";
        };
        /**
         * BetweenDates
         * @description From one month/day to another of every year, both included; a range whose end
         *     comes before its start runs over New Year (Dec 1 to Feb 28).
         */
        BetweenDates: {
            /** End Day */
            end_day: number;
            /** End Month */
            end_month: number;
            /** Start Day */
            start_day: number;
            /** Start Month */
            start_month: number;
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "between_dates";
        };
        /**
         * BetweenDatetimes
         * @description From moment ``start`` to moment ``end``, both included.
         */
        BetweenDatetimes: {
            /** End */
            end: {
                /**
                 * Format: date-time
                 * @description ISO 8601, with the offset of the moment meant
                 */
                dt: string;
                /** @description IANA zone, e.g. 'Europe/Berlin'; null: a fixed offset */
                tz?: string | null;
            } | string;
            /** Start */
            start: {
                /**
                 * Format: date-time
                 * @description ISO 8601, with the offset of the moment meant
                 */
                dt: string;
                /** @description IANA zone, e.g. 'Europe/Berlin'; null: a fixed offset */
                tz?: string | null;
            } | string;
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "between_datetimes";
        };
        /**
         * BetweenTimes
         * @description From wall-clock time ``start`` to ``end`` of any day, both included; a range whose
         *     end comes before its start runs over midnight (22:00 to 02:00).
         */
        BetweenTimes: {
            /**
             * End
             * Format: time
             */
            end: string;
            /**
             * Start
             * Format: time
             */
            start: string;
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "between_times";
        };
        /**
         * CancelRequest
         * @description ``POST /flow_runs/{id}/cancel``: why (shown as the run's state message).
         */
        CancelRequest: {
            /** Message */
            message?: string | null;
        };
        /**
         * Claim
         * @description A claimed run, unmasked (the agent needs its secrets), with the lease to write with.
         */
        Claim: {
            flow: components["schemas"]["Flow"];
            flow_run: components["schemas"]["FlowRun"];
            lease: components["schemas"]["Lease"];
        };
        /** ConcurrencyLimit */
        ConcurrencyLimit: {
            /**
             * Created
             * Format: date-time
             */
            created: string;
            /**
             * In Use
             * @description slots held now (may exceed limit after it was lowered; nothing is stopped)
             */
            in_use: number;
            /**
             * Kind
             * @enum {string}
             */
            kind: "label" | "tag";
            /** Limit */
            limit: number;
            /** Name */
            name: string;
            /**
             * Updated
             * Format: date-time
             */
            updated: string;
        };
        /**
         * CronClock
         * @description The times a cron expression matches, in the time zone of ``start_date`` (UTC).
         *
         *     ``day_or=True`` (cron's rule) runs when either the day of the month or the day of
         *     the week matches; ``False`` when both do (``0 9 8-14 * 5``: the second Friday).
         */
        CronClock: {
            /**
             * Cron
             * @description A cron expression, e.g. '0 6 * * 1-5' (read by croniter).
             * @example 0 6 * * 1-5
             * @example *\/15 * * * *
             */
            cron: string;
            /**
             * Day Or
             * @description Day of month OR day of week (cron's rule); false: both must match.
             * @default true
             */
            day_or: boolean;
            /**
             * End Date
             * @description The last possible time.
             */
            end_date?: {
                /**
                 * Format: date-time
                 * @description ISO 8601, with the offset of the moment meant
                 */
                dt: string;
                /** @description IANA zone, e.g. 'Europe/Berlin'; null: a fixed offset */
                tz?: string | null;
            } | string | null;
            /**
             * Labels
             * @description Labels for the flow runs this clock makes (stored stripped, deduplicated and sorted).
             */
            labels?: string[];
            /**
             * Parameter Defaults
             * @description Parameter values for the flow runs this clock makes (the run's own parameters take precedence).
             */
            parameter_defaults?: {
                [key: string]: components["schemas"]["JsonValue"];
            };
            /**
             * Start Date
             * @description The first possible time; its time zone is the clock's.
             */
            start_date?: {
                /**
                 * Format: date-time
                 * @description ISO 8601, with the offset of the moment meant
                 */
                dt: string;
                /** @description IANA zone, e.g. 'Europe/Berlin'; null: a fixed offset */
                tz?: string | null;
            } | string | null;
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "cron";
        };
        /**
         * DatesClock
         * @description Exactly the given ``dates`` (each in its own time zone).
         */
        DatesClock: {
            /**
             * Dates
             * @description The times to run at; at least one.
             */
            dates: ({
                /**
                 * Format: date-time
                 * @description ISO 8601, with the offset of the moment meant
                 */
                dt: string;
                /** @description IANA zone, e.g. 'Europe/Berlin'; null: a fixed offset */
                tz?: string | null;
            } | string)[];
            /**
             * Labels
             * @description Labels for the flow runs this clock makes (stored stripped, deduplicated and sorted).
             */
            labels?: string[];
            /**
             * Parameter Defaults
             * @description Parameter values for the flow runs this clock makes (the run's own parameters take precedence).
             */
            parameter_defaults?: {
                [key: string]: components["schemas"]["JsonValue"];
            };
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "dates";
        };
        /** EdgeSpec */
        "EdgeSpec-Input": {
            /** Downstream */
            downstream: string;
            /**
             * Flattened
             * @default false
             */
            flattened: boolean;
            /** Key */
            key?: string | null;
            /**
             * Mapped
             * @default false
             */
            mapped: boolean;
            /** Upstream */
            upstream: string;
        };
        /** EdgeSpec */
        "EdgeSpec-Output": {
            /** Downstream */
            downstream: string;
            /**
             * Flattened
             * @default false
             */
            flattened: boolean;
            /** Key */
            key: string | null;
            /**
             * Mapped
             * @default false
             */
            mapped: boolean;
            /** Upstream */
            upstream: string;
        };
        /** Flow */
        Flow: {
            /**
             * Archived
             * @description when it was archived (hidden from lists unless asked for; no new runs)
             */
            archived: string | null;
            /**
             * Created
             * Format: date-time
             */
            created: string;
            /** Executor */
            executor: {
                [key: string]: unknown;
            };
            /** Id */
            id: string;
            /** Labels */
            labels: string[];
            /** Max Retries */
            max_retries: number;
            /** Name */
            name: string;
            /** Project */
            project: string;
            /** Run Config */
            run_config: {
                [key: string]: unknown;
            };
            /**
             * Schedule Active
             * @description whether the backend makes runs from this version's schedule; only the latest version of a (project, name) is scheduled
             * @default true
             */
            schedule_active: boolean;
            spec: components["schemas"]["FlowSpec-Output"];
            /** Spec Hash */
            spec_hash: string;
            /** Storage */
            storage: {
                [key: string]: unknown;
            };
            /**
             * Updated
             * Format: date-time
             */
            updated: string;
            /** Version */
            version: number;
        };
        /**
         * FlowCreate
         * @description A flow version to register; bounds in :mod:`jupyter_flows.api.bounds`.
         */
        FlowCreate: {
            /** Executor */
            executor?: {
                [key: string]: unknown;
            };
            /** Labels */
            labels?: string[];
            /**
             * Max Retries
             * @default 0
             */
            max_retries: number;
            /** Name */
            name: string;
            /**
             * Project
             * @default default
             */
            project: string;
            /** Run Config */
            run_config?: {
                [key: string]: unknown;
            };
            /**
             * Set Schedule Active
             * @description whether the backend makes runs from the spec's schedule (if it has one)
             * @default true
             */
            set_schedule_active: boolean;
            spec: components["schemas"]["FlowSpec-Input"];
            /** Storage */
            storage?: {
                [key: string]: unknown;
            };
        };
        /**
         * FlowRegistration
         * @description A registered flow version; ``is_new`` is false when the spec was already known.
         */
        FlowRegistration: {
            /**
             * Archived
             * @description when it was archived (hidden from lists unless asked for; no new runs)
             */
            archived: string | null;
            /**
             * Created
             * Format: date-time
             */
            created: string;
            /** Executor */
            executor: {
                [key: string]: unknown;
            };
            /** Id */
            id: string;
            /** Is New */
            is_new: boolean;
            /** Labels */
            labels: string[];
            /** Max Retries */
            max_retries: number;
            /** Name */
            name: string;
            /** Project */
            project: string;
            /** Run Config */
            run_config: {
                [key: string]: unknown;
            };
            /**
             * Schedule Active
             * @description whether the backend makes runs from this version's schedule; only the latest version of a (project, name) is scheduled
             * @default true
             */
            schedule_active: boolean;
            spec: components["schemas"]["FlowSpec-Output"];
            /** Spec Hash */
            spec_hash: string;
            /** Storage */
            storage: {
                [key: string]: unknown;
            };
            /**
             * Updated
             * Format: date-time
             */
            updated: string;
            /** Version */
            version: number;
        };
        /**
         * FlowRemoval
         * @description What ``DELETE /api/flows/{id}`` did: archived the flow (its runs kept), or deleted it
         *     with its runs.
         */
        FlowRemoval: {
            /** Archived */
            archived: string | null;
            /** Deleted */
            deleted: boolean;
            /** Id */
            id: string;
            /** Runs Deleted */
            runs_deleted: number;
        };
        /** FlowRun */
        FlowRun: {
            /**
             * Agent Id
             * @description the agent that claimed it last; it holds the lease while lease_expires_at is set
             */
            agent_id: string | null;
            /** @description only on GET of one run */
            agent_match: components["schemas"]["AgentMatch"] | null;
            /** Agent Name */
            agent_name: string | null;
            /**
             * Auto Scheduled
             * @description made by the backend's scheduler from the flow's schedule
             * @default false
             */
            auto_scheduled: boolean;
            /**
             * Created
             * Format: date-time
             */
            created: string;
            /** Executor */
            executor: {
                [key: string]: unknown;
            };
            /** Exit Code */
            exit_code: number | null;
            /** Flow Id */
            flow_id: string;
            /** Flow Name */
            flow_name: string;
            /** Flow Version */
            flow_version: number;
            /** Id */
            id: string;
            /** Idempotency Key */
            idempotency_key: string | null;
            /** Labels */
            labels: string[];
            /** Last Heartbeat */
            last_heartbeat: string | null;
            /** Lease Expires At */
            lease_expires_at: string | null;
            /** Max Retries */
            max_retries: number;
            /**
             * Name
             * @description the name given when the run was created
             */
            name: string | null;
            /** Parameters */
            parameters: {
                [key: string]: unknown;
            };
            /**
             * Parent Flow Run Id
             * @description the run whose task created this one; its children are listed by GET /api/flow_runs?parent=ID
             */
            parent_flow_run_id: string | null;
            /** Project */
            project: string;
            /** Run Config */
            run_config: {
                [key: string]: unknown;
            };
            /**
             * Run Count
             * @description how many times the run was claimed
             */
            run_count: number;
            /**
             * Scheduled Start
             * Format: date-time
             */
            scheduled_start: string;
            /** State */
            state: string;
            /** State Message */
            state_message: string | null;
            /**
             * State Timestamp
             * Format: date-time
             */
            state_timestamp: string;
            /**
             * Updated
             * Format: date-time
             */
            updated: string;
            /**
             * Version
             * @description incremented on every state change
             */
            version: number;
            /**
             * Waiting For
             * @description only on GET of one run: why a due run is not claimed although it could be (a concurrency limit of one of its labels is full)
             */
            waiting_for: string | null;
        };
        /**
         * FlowRunBatch
         * @description Many runs to create at once (``POST /api/flow_runs/batch``).
         */
        FlowRunBatch: {
            /** Runs */
            runs: components["schemas"]["FlowRunCreate"][];
        };
        /** FlowRunBatchResult */
        FlowRunBatchResult: {
            /**
             * Created
             * @description how many are new (the rest existed for their idempotency keys)
             */
            created: number;
            /**
             * Runs
             * @description one per run asked for, in order
             */
            runs: components["schemas"]["FlowRun"][];
        };
        /**
         * FlowRunCreate
         * @description Name the flow by ``flow_id``, or by ``flow_name`` (+ ``project``, ``flow_version``;
         *     the newest version when omitted). Overrides left out come from the flow.
         */
        FlowRunCreate: {
            /** Executor */
            executor?: {
                [key: string]: unknown;
            } | null;
            /** Flow Id */
            flow_id?: string | null;
            /** Flow Name */
            flow_name?: string | null;
            /** Flow Version */
            flow_version?: number | null;
            /** Idempotency Key */
            idempotency_key?: string | null;
            /** Labels */
            labels?: string[] | null;
            /** Max Retries */
            max_retries?: number | null;
            /**
             * Name
             * @description a name for this run, shown beside its id
             */
            name?: string | null;
            /** Parameters */
            parameters?: {
                [key: string]: unknown;
            };
            /**
             * Parent Flow Run Id
             * @description the run whose task creates this one (flows of flows)
             */
            parent_flow_run_id?: string | null;
            /** Project */
            project?: string | null;
            /** Run Config */
            run_config?: {
                [key: string]: unknown;
            } | null;
            /** Scheduled Start */
            scheduled_start?: string | null;
        };
        /** FlowRunStateEvent */
        FlowRunStateEvent: {
            /** Flow Run Id */
            flow_run_id: string;
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            kind: "flow_run_state";
            /** Message */
            message: string | null;
            /** Seq */
            seq: number;
            /** State */
            state: string;
            /**
             * Timestamp
             * Format: date-time
             */
            timestamp: string;
            /** Version */
            version: number;
        };
        /**
         * FlowSchedule
         * @description A flow's schedule as the backend runs it: always the latest version's.
         */
        FlowSchedule: {
            /** Active */
            active: boolean;
            /**
             * Description
             * @description the schedule in words
             */
            description: string | null;
            /**
             * Flow Id
             * @description the latest version's id
             */
            flow_id: string;
            /** Name */
            name: string;
            /**
             * Next Times
             * @description the schedule's next times (UTC), whether active or not
             */
            next_times: string[];
            /** Project */
            project: string;
            schedule: components["schemas"]["Schedule"] | null;
            /**
             * Upcoming Runs
             * @description runs the scheduler made that are still to start
             * @default 0
             */
            upcoming_runs: number;
            /** Version */
            version: number;
        };
        /**
         * FlowSpec
         * @description A flow as the backend and the UIs see it; see the module docstring.
         */
        "FlowSpec-Input": {
            /**
             * Code Location
             * @description where the registered code is stored; a new location makes a new version
             */
            code_location?: string | null;
            /** Edges */
            edges?: components["schemas"]["EdgeSpec-Input"][];
            /** Name */
            name: string;
            /** Parameters */
            parameters?: string[];
            /** Reference Tasks */
            reference_tasks?: string[];
            /** @description when the backend creates its runs */
            schedule?: components["schemas"]["Schedule"] | null;
            /** Tasks */
            tasks?: components["schemas"]["TaskSpec-Input"][];
        };
        /**
         * FlowSpec
         * @description A flow as the backend and the UIs see it; see the module docstring.
         */
        "FlowSpec-Output": {
            /**
             * Code Location
             * @description where the registered code is stored; a new location makes a new version
             */
            code_location: string | null;
            /** Edges */
            edges: components["schemas"]["EdgeSpec-Output"][];
            /** Name */
            name: string;
            /** Parameters */
            parameters: string[];
            /** Reference Tasks */
            reference_tasks: string[];
            /** @description when the backend creates its runs */
            schedule: components["schemas"]["Schedule"] | null;
            /** Tasks */
            tasks: components["schemas"]["TaskSpec-Output"][];
        };
        /** Health */
        Health: {
            /** Database */
            database: string;
            /** Status */
            status: string;
            /** Version */
            version: string;
        };
        /** HeartbeatAck */
        HeartbeatAck: {
            /**
             * Expires At
             * Format: date-time
             */
            expires_at: string;
            /** Lease Id */
            lease_id: string | null;
            /** State */
            state: string;
            /** Version */
            version: number;
        };
        /** HTTPValidationError */
        HTTPValidationError: {
            /** Detail */
            detail?: components["schemas"]["ValidationError"][];
        };
        /**
         * InfrastructureFailure
         * @description An agent reports that the process or container running a flow run is gone.
         */
        InfrastructureFailure: {
            /** Exit Code */
            exit_code?: number | null;
            /** Lease Id */
            lease_id?: string | null;
            /**
             * Message
             * @default
             */
            message: string;
        };
        /**
         * IntervalClock
         * @description Every ``interval`` from ``start_date`` (default 2019-01-01 00:00 UTC).
         *
         *     An interval of a day or more keeps the wall-clock time of ``start_date`` across
         *     daylight saving time; a shorter one counts elapsed time.
         */
        IntervalClock: {
            /**
             * End Date
             * @description The last possible time.
             */
            end_date?: {
                /**
                 * Format: date-time
                 * @description ISO 8601, with the offset of the moment meant
                 */
                dt: string;
                /** @description IANA zone, e.g. 'Europe/Berlin'; null: a fixed offset */
                tz?: string | null;
            } | string | null;
            /**
             * Interval
             * Format: duration
             * @description Time between runs (ISO 8601 duration in JSON).
             */
            interval: string;
            /**
             * Labels
             * @description Labels for the flow runs this clock makes (stored stripped, deduplicated and sorted).
             */
            labels?: string[];
            /**
             * Parameter Defaults
             * @description Parameter values for the flow runs this clock makes (the run's own parameters take precedence).
             */
            parameter_defaults?: {
                [key: string]: components["schemas"]["JsonValue"];
            };
            /**
             * Start Date
             * @description The first possible time; its time zone is the clock's.
             */
            start_date?: {
                /**
                 * Format: date-time
                 * @description ISO 8601, with the offset of the moment meant
                 */
                dt: string;
                /** @description IANA zone, e.g. 'Europe/Berlin'; null: a fixed offset */
                tz?: string | null;
            } | string | null;
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "interval";
        };
        /**
         * IsDayOfWeek
         * @description One day of the week: 0 is Monday, 6 is Sunday (``datetime.weekday()``).
         */
        IsDayOfWeek: {
            /**
             * Day Of Week
             * @description 0 = Monday ... 6 = Sunday
             */
            day_of_week: number;
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "is_day_of_week";
        };
        /**
         * IsMonthEnd
         * @description The last day of a month (Feb 29 in a leap year).
         */
        IsMonthEnd: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "is_month_end";
        };
        /**
         * IsMonthStart
         * @description The first day of a month.
         */
        IsMonthStart: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "is_month_start";
        };
        /**
         * IsWeekday
         * @description Monday to Friday.
         */
        IsWeekday: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "is_weekday";
        };
        /**
         * IsWeekend
         * @description Saturday and Sunday.
         */
        IsWeekend: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "is_weekend";
        };
        JsonValue: unknown;
        /** Lease */
        Lease: {
            /**
             * Expires At
             * Format: date-time
             */
            expires_at: string;
            /** Lease Id */
            lease_id: string;
        };
        /** LimitSet */
        LimitSet: {
            /**
             * Limit
             * @description flow runs with this label (Submitted, Running or Cancelling), or task runs with this tag (Running), that may hold a slot at once
             */
            limit: number;
        };
        /** LogEvent */
        LogEvent: {
            /** Flow Run Id */
            flow_run_id: string;
            /**
             * Id
             * @description the log record's id (the cursor of GET .../logs)
             */
            id: number;
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            kind: "log";
            /** Level */
            level: string;
            /** Map Index */
            map_index: number | null;
            /** Message */
            message: string;
            /** Seq */
            seq: number;
            /** Task Slug */
            task_slug: string | null;
            /**
             * Timestamp
             * Format: date-time
             */
            timestamp: string;
        };
        /**
         * LogPage
         * @description Logs after a cursor; pass ``next_after`` as ``after`` to read on.
         */
        LogPage: {
            /** Items */
            items: components["schemas"]["LogRecord"][];
            /** Next After */
            next_after: number;
        };
        /** LogRecord */
        LogRecord: {
            /** Flow Run Id */
            flow_run_id: string;
            /** Id */
            id: number;
            /** Level */
            level: string;
            /** Map Index */
            map_index: number | null;
            /** Message */
            message: string;
            /** Task Slug */
            task_slug: string | null;
            /**
             * Timestamp
             * Format: date-time
             */
            timestamp: string;
        };
        /** LogWrite */
        LogWrite: {
            /**
             * Level
             * @default INFO
             */
            level: string;
            /** Map Index */
            map_index?: number | null;
            /** Message */
            message: string;
            /** Task Slug */
            task_slug?: string | null;
            /** Timestamp */
            timestamp?: string | null;
        };
        /**
         * NextWeekday
         * @description A Saturday or Sunday moves to the Monday after, at the same wall-clock time.
         */
        NextWeekday: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "next_weekday";
        };
        /**
         * OnDate
         * @description On ``month``/``day`` of every year.
         */
        OnDate: {
            /** Day */
            day: number;
            /** Month */
            month: number;
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "on_date";
        };
        /**
         * OnDatetime
         * @description Exactly the moment ``dt``.
         */
        OnDatetime: {
            /** Dt */
            dt: {
                /**
                 * Format: date-time
                 * @description ISO 8601, with the offset of the moment meant
                 */
                dt: string;
                /** @description IANA zone, e.g. 'Europe/Berlin'; null: a fixed offset */
                tz?: string | null;
            } | string;
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "on_datetime";
        };
        /** Page[Flow] */
        Page_Flow_: {
            /** Items */
            items: components["schemas"]["Flow"][];
            /** Limit */
            limit: number;
            /** Offset */
            offset: number;
            /** Total */
            total: number;
        };
        /** Page[FlowRun] */
        Page_FlowRun_: {
            /** Items */
            items: components["schemas"]["FlowRun"][];
            /** Limit */
            limit: number;
            /** Offset */
            offset: number;
            /** Total */
            total: number;
        };
        /**
         * ParameterSpec
         * @description A parameter's default as JSON; ``default_repr`` when the default is not JSON.
         */
        "ParameterSpec-Input": {
            /** Default */
            default?: unknown;
            /** Default Repr */
            default_repr?: string | null;
            /**
             * Required
             * @default false
             */
            required: boolean;
        };
        /**
         * ParameterSpec
         * @description A parameter's default as JSON; ``default_repr`` when the default is not JSON.
         */
        "ParameterSpec-Output": {
            /** Default */
            default: unknown;
            /** Default Repr */
            default_repr: string | null;
            /**
             * Required
             * @default false
             */
            required: boolean;
        };
        /**
         * RestartRequest
         * @description ``POST /flow_runs/{id}/restart``: ``from_task`` runs that task and everything
         *     downstream of it again, even where their results were kept.
         */
        RestartRequest: {
            /** From Task */
            from_task?: string | null;
        };
        /**
         * RRuleClock
         * @description The times an iCalendar (RFC 5545) recurrence rule matches, read by dateutil.
         *
         *     ``rrule`` is a dateutil ``rrule`` or its text (``RRULE:FREQ=WEEKLY;BYDAY=MO,FR``, with
         *     ``RDATE``/``EXDATE`` lines if wanted). Its DTSTART moves to ``start_date``, the rule's
         *     anchor and time zone; a ``start_date`` given as well takes precedence. Without either
         *     the rule counts from 2019-01-01 00:00 UTC. Times in the rule (UNTIL, EXDATE) are wall
         *     times in the clock's time zone.
         */
        RRuleClock: {
            /**
             * End Date
             * @description The last possible time.
             */
            end_date?: {
                /**
                 * Format: date-time
                 * @description ISO 8601, with the offset of the moment meant
                 */
                dt: string;
                /** @description IANA zone, e.g. 'Europe/Berlin'; null: a fixed offset */
                tz?: string | null;
            } | string | null;
            /**
             * Labels
             * @description Labels for the flow runs this clock makes (stored stripped, deduplicated and sorted).
             */
            labels?: string[];
            /**
             * Parameter Defaults
             * @description Parameter values for the flow runs this clock makes (the run's own parameters take precedence).
             */
            parameter_defaults?: {
                [key: string]: components["schemas"]["JsonValue"];
            };
            /**
             * Rrule
             * @description RFC 5545 recurrence text without DTSTART, e.g. 'RRULE:FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=9'.
             * @example RRULE:FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=17;BYMINUTE=0
             */
            rrule: string;
            /**
             * Start Date
             * @description The first possible time; its time zone is the clock's.
             */
            start_date?: {
                /**
                 * Format: date-time
                 * @description ISO 8601, with the offset of the moment meant
                 */
                dt: string;
                /** @description IANA zone, e.g. 'Europe/Berlin'; null: a fixed offset */
                tz?: string | null;
            } | string | null;
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "rrule";
        };
        /**
         * RunEventPage
         * @description Events after a cursor; pass ``next_after`` as ``after`` to read on.
         */
        RunEventPage: {
            /**
             * Finished
             * @description the run is finished and no event is left to read
             */
            finished: boolean;
            /** Items */
            items: (components["schemas"]["FlowRunStateEvent"] | components["schemas"]["TaskRunStateEvent"] | components["schemas"]["LogEvent"])[];
            /** Next After */
            next_after: number;
            /**
             * State
             * @description the run's state now
             */
            state: string;
        };
        /** RunHeartbeat */
        RunHeartbeat: {
            /** Lease Id */
            lease_id?: string | null;
        };
        /**
         * Schedule
         * @description When a flow runs: one or more clocks, narrowed by filters, moved by adjustments.
         */
        Schedule: {
            /**
             * Adjustments
             * @description Applied in order to each time kept.
             */
            adjustments?: (components["schemas"]["Add"] | components["schemas"]["NextWeekday"])[];
            /**
             * Clocks
             * @description Where candidate times come from; at least one.
             */
            clocks: (components["schemas"]["IntervalClock"] | components["schemas"]["CronClock"] | components["schemas"]["DatesClock"] | components["schemas"]["RRuleClock"])[];
            /**
             * Filters
             * @description A time is kept only if all of these pass.
             */
            filters?: (components["schemas"]["OnDatetime"] | components["schemas"]["OnDate"] | components["schemas"]["AtTime"] | components["schemas"]["BetweenDatetimes"] | components["schemas"]["BetweenDates"] | components["schemas"]["BetweenTimes"] | components["schemas"]["IsWeekday"] | components["schemas"]["IsWeekend"] | components["schemas"]["IsMonthStart"] | components["schemas"]["IsMonthEnd"] | components["schemas"]["IsDayOfWeek"])[];
            /**
             * Not Filters
             * @description ...and none of these.
             */
            not_filters?: (components["schemas"]["OnDatetime"] | components["schemas"]["OnDate"] | components["schemas"]["AtTime"] | components["schemas"]["BetweenDatetimes"] | components["schemas"]["BetweenDates"] | components["schemas"]["BetweenTimes"] | components["schemas"]["IsWeekday"] | components["schemas"]["IsWeekend"] | components["schemas"]["IsMonthStart"] | components["schemas"]["IsMonthEnd"] | components["schemas"]["IsDayOfWeek"])[];
            /**
             * Or Filters
             * @description ...and at least one of these (when any).
             */
            or_filters?: (components["schemas"]["OnDatetime"] | components["schemas"]["OnDate"] | components["schemas"]["AtTime"] | components["schemas"]["BetweenDatetimes"] | components["schemas"]["BetweenDates"] | components["schemas"]["BetweenTimes"] | components["schemas"]["IsWeekday"] | components["schemas"]["IsWeekend"] | components["schemas"]["IsMonthStart"] | components["schemas"]["IsMonthEnd"] | components["schemas"]["IsDayOfWeek"])[];
            /**
             * Type
             * @default schedule
             * @constant
             */
            type: "schedule";
        };
        /** ScheduleUpdate */
        ScheduleUpdate: {
            /**
             * Active
             * @description false pauses the schedule (its unclaimed runs are deleted), true resumes it
             */
            active: boolean;
        };
        /** StateRecord */
        StateRecord: {
            /** Id */
            id: number;
            /** Message */
            message: string | null;
            /** State */
            state: string;
            /**
             * Timestamp
             * Format: date-time
             */
            timestamp: string;
            /** Version */
            version: number;
        };
        /** StateWrite */
        StateWrite: {
            /**
             * Expected Version
             * @description refuse (409) unless the run is at this version
             */
            expected_version?: number | null;
            /** Lease Id */
            lease_id?: string | null;
            /** Message */
            message?: string | null;
            /** State */
            state: string;
        };
        /** TaskRun */
        TaskRun: {
            /**
             * Location
             * @description where its result was checkpointed, if it was (get_task_run_result reads it)
             */
            location: string | null;
            /** Map Index */
            map_index: number | null;
            /** Message */
            message: string | null;
            /**
             * Started
             * @description when it first ran; a finished task run took timestamp - started
             */
            started: string | null;
            /** State */
            state: string;
            /** Task Slug */
            task_slug: string;
            /**
             * Timestamp
             * Format: date-time
             * @description when it entered this state
             */
            timestamp: string;
        };
        /** TaskRunStateEvent */
        TaskRunStateEvent: {
            /** Flow Run Id */
            flow_run_id: string;
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            kind: "task_run_state";
            /** Map Index */
            map_index: number | null;
            /** Message */
            message: string | null;
            /** Seq */
            seq: number;
            /** State */
            state: string;
            /** Task Slug */
            task_slug: string;
            /**
             * Timestamp
             * Format: date-time
             */
            timestamp: string;
        };
        /** TaskRunStatesWrite */
        TaskRunStatesWrite: {
            /** Lease Id */
            lease_id?: string | null;
            /** Task Runs */
            task_runs: components["schemas"]["TaskRunWrite"][];
        };
        /** TaskRunWrite */
        TaskRunWrite: {
            /**
             * Location
             * @description where the task run's result was checkpointed
             */
            location?: string | null;
            /** Map Index */
            map_index?: number | null;
            /** Message */
            message?: string | null;
            /** State */
            state: string;
            /** Task Slug */
            task_slug: string;
            /**
             * Timestamp
             * @description when the state was entered; older writes never replace newer
             */
            timestamp?: string | null;
        };
        /** TaskSlotGrant */
        TaskSlotGrant: {
            /**
             * Granted
             * @description the task run holds a slot of each limited tag now; when False it holds none and should ask again
             */
            granted: boolean;
            /**
             * Message
             * @description why not: which tag is at its limit
             */
            message: string | null;
        };
        /**
         * TaskSlotRequest
         * @description A task run of a leased flow run asks for one slot of each limited tag it has.
         */
        TaskSlotRequest: {
            /** Lease Id */
            lease_id: string;
            /** Map Index */
            map_index?: number | null;
            /** Tags */
            tags: string[];
            /** Task Slug */
            task_slug: string;
        };
        /** TaskSpec */
        "TaskSpec-Input": {
            /** Cache For */
            cache_for?: number | null;
            /** Checkpoint */
            checkpoint?: boolean | null;
            /**
             * Is Parameter
             * @default false
             */
            is_parameter: boolean;
            /**
             * Mapped
             * @description true when any of its inputs is mapped
             * @default false
             */
            mapped: boolean;
            /**
             * Max Retries
             * @default 0
             */
            max_retries: number;
            /** Name */
            name: string;
            parameter?: components["schemas"]["ParameterSpec-Input"] | null;
            /**
             * Retry Delay
             * @default 0
             */
            retry_delay: number | null;
            /**
             * Skip On Upstream Skip
             * @default true
             */
            skip_on_upstream_skip: boolean;
            /** Slug */
            slug: string;
            /** Tags */
            tags?: string[];
            /** Timeout */
            timeout?: number | null;
            /**
             * Trigger
             * @default all_successful
             */
            trigger: string;
            /**
             * Type
             * @description the task's class name
             */
            type: string;
        };
        /** TaskSpec */
        "TaskSpec-Output": {
            /** Cache For */
            cache_for: number | null;
            /** Checkpoint */
            checkpoint: boolean | null;
            /**
             * Is Parameter
             * @default false
             */
            is_parameter: boolean;
            /**
             * Mapped
             * @description true when any of its inputs is mapped
             * @default false
             */
            mapped: boolean;
            /**
             * Max Retries
             * @default 0
             */
            max_retries: number;
            /** Name */
            name: string;
            parameter: components["schemas"]["ParameterSpec-Output"] | null;
            /**
             * Retry Delay
             * @default 0
             */
            retry_delay: number | null;
            /**
             * Skip On Upstream Skip
             * @default true
             */
            skip_on_upstream_skip: boolean;
            /** Slug */
            slug: string;
            /** Tags */
            tags: string[];
            /** Timeout */
            timeout: number | null;
            /**
             * Trigger
             * @default all_successful
             */
            trigger: string;
            /**
             * Type
             * @description the task's class name
             */
            type: string;
        };
        /** ValidationError */
        ValidationError: {
            /** Context */
            ctx?: Record<string, never>;
            /** Input */
            input?: unknown;
            /** Location */
            loc: (string | number)[];
            /** Message */
            msg: string;
            /** Error Type */
            type: string;
        };
        /** WriteCount */
        WriteCount: {
            /** Count */
            count: number;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    list_agents_api_agents_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Agent"][];
                };
            };
        };
    };
    register_agent_api_agents_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AgentCreate"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Agent"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_agent_api_agents__agent_id__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                agent_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Agent"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    claim_api_agents__agent_id__claim_post: {
        parameters: {
            query?: {
                /** @description seconds to long-poll; capped by the server */
                wait?: number;
            };
            header?: never;
            path: {
                agent_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Claim"];
                };
            };
            /** @description no due run matched within the wait */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    agent_heartbeat_api_agents__agent_id__heartbeat_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                agent_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Agent"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    change_feed_api_events_get: {
        parameters: {
            query?: never;
            header?: {
                "last-event-id"?: string | null;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description with Accept: text/event-stream, the events as Server-Sent Events */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                    "text/event-stream": string;
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    list_flow_runs_api_flow_runs_get: {
        parameters: {
            query?: {
                flow_id?: string | null;
                flow_name?: string | null;
                /** @description runs having all these labels */
                labels?: string[] | null;
                limit?: number;
                offset?: number;
                /** @description the runs created from within this run (its children) */
                parent?: string | null;
                /** @description any of these states */
                state?: string[] | null;
                /** @description only Scheduled runs still to start, soonest first */
                upcoming?: boolean;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Page_FlowRun_"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    create_flow_run_api_flow_runs_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["FlowRunCreate"];
            };
        };
        responses: {
            /** @description a run with this idempotency_key already existed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FlowRun"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_flow_run_api_flow_runs__flow_run_id__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                flow_run_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FlowRun"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    cancel_flow_run_api_flow_runs__flow_run_id__cancel_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                flow_run_id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["CancelRequest"] | null;
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FlowRun"];
                };
            };
            /** @description the run has already finished */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    run_events_api_flow_runs__flow_run_id__events_get: {
        parameters: {
            query?: {
                /** @description the last seq already seen */
                after?: number;
                limit?: number;
            };
            header?: {
                accept?: string;
                "last-event-id"?: string | null;
            };
            path: {
                flow_run_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description with Accept: text/event-stream, the events as Server-Sent Events */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunEventPage"];
                    "text/event-stream": string;
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    run_heartbeat_api_flow_runs__flow_run_id__heartbeat_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                flow_run_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RunHeartbeat"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HeartbeatAck"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    infrastructure_failure_api_flow_runs__flow_run_id__infrastructure_failure_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                flow_run_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["InfrastructureFailure"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FlowRun"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    read_logs_api_flow_runs__flow_run_id__logs_get: {
        parameters: {
            query?: {
                /** @description a log id; 0 for the start */
                after?: number;
                limit?: number;
            };
            header?: never;
            path: {
                flow_run_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LogPage"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    write_logs_api_flow_runs__flow_run_id__logs_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                flow_run_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LogWrite"][];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WriteCount"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    restart_flow_run_api_flow_runs__flow_run_id__restart_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                flow_run_id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["RestartRequest"] | null;
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FlowRun"];
                };
            };
            /** @description the run is not a finished, unsuccessful one */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description from_task names no task of the flow */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    set_flow_run_state_api_flow_runs__flow_run_id__state_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                flow_run_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["StateWrite"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FlowRun"];
                };
            };
            /** @description refused: transition, version or lease */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    read_flow_run_states_api_flow_runs__flow_run_id__states_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                flow_run_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StateRecord"][];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    read_task_runs_api_flow_runs__flow_run_id__task_runs_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                flow_run_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskRun"][];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    set_task_run_states_api_flow_runs__flow_run_id__task_runs_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                flow_run_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TaskRunStatesWrite"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WriteCount"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    take_slots_api_flow_runs__flow_run_id__task_slots_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                flow_run_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TaskSlotRequest"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskSlotGrant"];
                };
            };
            /** @description the lease is not valid (the run was taken away, or is not running) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    release_slots_api_flow_runs__flow_run_id__task_slots_delete: {
        parameters: {
            query: {
                map_index?: number | null;
                task_slug: string;
            };
            header?: never;
            path: {
                flow_run_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WriteCount"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    create_flow_runs_api_flow_runs_batch_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["FlowRunBatch"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FlowRunBatchResult"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    list_flows_api_flows_get: {
        parameters: {
            query?: {
                /** @description include archived flows */
                archived?: boolean;
                limit?: number;
                name?: string | null;
                offset?: number;
                project?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Page_Flow_"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    register_flow_api_flows_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["FlowCreate"];
            };
        };
        responses: {
            /** @description the spec was already registered: that version (its storage, run config etc. updated) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FlowRegistration"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_flow_api_flows__flow_id__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                flow_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Flow"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    remove_flow_api_flows__flow_id__delete: {
        parameters: {
            query?: {
                /** @description keep: archive the flow, keeping its runs; delete: delete it and its runs */
                runs?: "keep" | "delete";
            };
            header?: never;
            path: {
                flow_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FlowRemoval"];
                };
            };
            /** @description runs=delete while a run is active */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_schedule_api_flows__flow_id__schedule_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                flow_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FlowSchedule"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    set_schedule_api_flows__flow_id__schedule_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                flow_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ScheduleUpdate"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FlowSchedule"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    health_api_health_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    list_limits_api_limits_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConcurrencyLimit"][];
                };
            };
        };
    };
    set_limit_api_limits__kind___name__put: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                kind: "label" | "tag";
                /** @description the label the limit counts runs by */
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LimitSet"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConcurrencyLimit"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    delete_limit_api_limits__kind___name__delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                kind: "label" | "tag";
                /** @description the label the limit counts runs by */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConcurrencyLimit"];
                };
            };
            /** @description no such limit */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
}
