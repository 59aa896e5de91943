-- A tenant's global issues are aggregated from the sensors that have one issue kind open
-- (`tables::fleet::aggregate_globals`): this finds them by kind, whatever the size of the fleet,
-- instead of a walk over every sensor of the tenant.
CREATE INDEX IF NOT EXISTS agent_issues_by_key ON agent_issues (tenant_id, issue_key, sensor_id);
