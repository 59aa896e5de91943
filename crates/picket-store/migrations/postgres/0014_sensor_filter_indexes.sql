-- Every filterable sensor property has an index led by the tenant, so `$filter=prop eq value`
-- (and its `$count`) reads the matching rows instead of the tenant's whole fleet; each index
-- ends in the page order (created_date_time, id), so a filtered page is read in order and stops
-- at its size. Text compared case-insensitively is indexed as `lower(column)`, the expression
-- the filter writes for PostgreSQL (`odata_sql::Writer::side`).
-- `settings/domainControllerDnsNames` (a JSON list, filtered with any()) has none: a B-tree
-- cannot index a list's members; its filter runs over the rows the other terms leave.
CREATE INDEX sensors_by_service ON sensors (tenant_id, service_status, created_date_time, id);
CREATE INDEX sensors_by_type ON sensors (tenant_id, sensor_type, created_date_time, id);
CREATE INDEX sensors_by_name ON sensors (tenant_id, lower(display_name), created_date_time, id);
CREATE INDEX sensors_by_domain ON sensors (tenant_id, lower(domain_name), created_date_time, id);
CREATE INDEX sensors_by_version ON sensors (tenant_id, lower(version), created_date_time, id);
CREATE INDEX sensors_by_open_count ON sensors (tenant_id, open_health_issues_count, created_date_time, id);
CREATE INDEX sensors_by_delayed ON sensors (tenant_id, is_delayed, created_date_time, id);
CREATE INDEX sensors_by_description ON sensors (tenant_id, lower(description), created_date_time, id);
