-- 0007: park governance — the alert lifecycle, facility management and notices.
-- Lifecycles (allowed transitions) are declared once, in parkbrain/analytics/workflow.py; each
-- transition updates its row and appends its event in one transaction. Ids of events come from
-- sequences so that history reads in the order it happened.

-- Who and when for each alert transition. An alert a rule closes by itself (its condition cleared)
-- has status 'closed' and no closed_by; work_order_id links the work order made from it; plan_id the
-- maintenance plan of a 'maintenance_overdue' alert.
ALTER TABLE alerts ADD COLUMN acknowledged_by VARCHAR;
ALTER TABLE alerts ADD COLUMN acknowledged_at TIMESTAMPTZ;
ALTER TABLE alerts ADD COLUMN closed_by VARCHAR;
ALTER TABLE alerts ADD COLUMN closed_at TIMESTAMPTZ;
ALTER TABLE alerts ADD COLUMN note VARCHAR;
ALTER TABLE alerts ADD COLUMN work_order_id VARCHAR;
ALTER TABLE alerts ADD COLUMN plan_id VARCHAR;

CREATE SEQUENCE alert_events_seq START 1;
CREATE TABLE alert_events (
    event_id     BIGINT PRIMARY KEY DEFAULT nextval('alert_events_seq'),
    alert_id     VARCHAR NOT NULL,
    ts           TIMESTAMPTZ NOT NULL,
    actor        VARCHAR NOT NULL,           -- principal.actor: user:<name>, token:<name> or system
    role         VARCHAR,
    action       VARCHAR NOT NULL,           -- raise, acknowledge, close, link
    from_status  VARCHAR,
    to_status    VARCHAR NOT NULL,
    note         VARCHAR
);

-- Maintenance plans: an asset (a device) serviced every interval_days; next_due_at moves on each time
-- the work is recorded. Past next_due_at, check_maintenance raises a 'maintenance_overdue' alert.
CREATE TABLE maintenance_plans (
    plan_id        VARCHAR PRIMARY KEY,
    park_id        VARCHAR NOT NULL,
    enterprise_id  VARCHAR,                  -- the device's enterprise, NULL for park-owned assets
    device_id      VARCHAR NOT NULL,
    description    VARCHAR NOT NULL,
    interval_days  INTEGER NOT NULL CHECK (interval_days > 0),
    last_done_at   TIMESTAMPTZ,
    next_due_at    TIMESTAMPTZ NOT NULL,
    created_by     VARCHAR NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);

CREATE SEQUENCE maintenance_records_seq START 1;
CREATE TABLE maintenance_records (
    record_id  BIGINT PRIMARY KEY DEFAULT nextval('maintenance_records_seq'),
    plan_id    VARCHAR NOT NULL,
    done_at    TIMESTAMPTZ NOT NULL,
    done_by    VARCHAR NOT NULL,
    note       VARCHAR
);

-- Work orders: by hand or from an alert (alert_id, and alerts.work_order_id back); statuses
-- open → assigned → in_progress → closed (workflow.WORK_ORDER_LIFECYCLE).
CREATE TABLE work_orders (
    work_order_id  VARCHAR PRIMARY KEY,
    park_id        VARCHAR NOT NULL,
    enterprise_id  VARCHAR,
    device_id      VARCHAR,
    alert_id       VARCHAR,
    plan_id        VARCHAR,
    title          VARCHAR NOT NULL,
    description    VARCHAR,
    priority       VARCHAR NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    status         VARCHAR NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'assigned', 'in_progress', 'closed')),
    assignee       VARCHAR,
    created_by     VARCHAR NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    due_at         TIMESTAMPTZ,
    updated_at     TIMESTAMPTZ NOT NULL,
    closed_by      VARCHAR,
    closed_at      TIMESTAMPTZ,
    resolution     VARCHAR
);

CREATE SEQUENCE work_order_events_seq START 1;
CREATE TABLE work_order_events (
    event_id       BIGINT PRIMARY KEY DEFAULT nextval('work_order_events_seq'),
    work_order_id  VARCHAR NOT NULL,
    ts             TIMESTAMPTZ NOT NULL,
    actor          VARCHAR NOT NULL,
    role           VARCHAR,
    action         VARCHAR NOT NULL,         -- create, assign, start, progress, close
    from_status    VARCHAR,
    to_status      VARCHAR NOT NULL,
    assignee       VARCHAR,
    note           VARCHAR
);

-- Notices from a park to all its enterprises (audience 'all', the enterprises at publication) or to
-- chosen ones; one notice_recipients row per addressed enterprise holds its read receipt.
CREATE TABLE notices (
    notice_id     VARCHAR PRIMARY KEY,
    park_id       VARCHAR NOT NULL,
    title         VARCHAR NOT NULL,
    body          VARCHAR NOT NULL,
    author        VARCHAR NOT NULL,
    published_at  TIMESTAMPTZ NOT NULL,
    audience      VARCHAR NOT NULL CHECK (audience IN ('all', 'chosen'))
);

CREATE TABLE notice_recipients (
    notice_id      VARCHAR NOT NULL,
    enterprise_id  VARCHAR NOT NULL,
    read_by        VARCHAR,
    read_at        TIMESTAMPTZ,
    PRIMARY KEY (notice_id, enterprise_id)
);
