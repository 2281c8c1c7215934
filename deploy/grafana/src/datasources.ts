// The three provisioned datasources of observability.md §10.1, referenced by fixed uid from every
// panel; provisioning/datasources/datasources.yaml defines them with the same uids and names.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

export const kPrometheus: dashboard.DataSourceRef = { type: 'prometheus', uid: 'prometheus' };
export const kTempo: dashboard.DataSourceRef = { type: 'tempo', uid: 'tempo' };
export const kLoki: dashboard.DataSourceRef = { type: 'loki', uid: 'loki' };

// The alert-list panel filters rule sources by datasource *name*, not uid.
export const kPrometheusName = 'Prometheus';
