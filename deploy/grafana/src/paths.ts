// Where things live, relative to this project (deploy/grafana) and to the repository root, so
// the generator, the catalogue extractor and the tests agree on one set of paths.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const kProjectDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const kRepoRoot = path.resolve(kProjectDir, '..', '..');
export const kDashboardsDir = path.join(kProjectDir, 'dashboards');
export const kDatasourcesFile = path.join(kProjectDir, 'provisioning', 'datasources', 'datasources.yaml');
export const kRulesFile = path.join(kRepoRoot, 'deploy', 'prometheus', 'rules', 'chat.yaml');
export const kDeployDir = path.join(kRepoRoot, 'deploy');
