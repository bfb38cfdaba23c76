import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { CORE_SCHEMA, load, mergeTag } from 'js-yaml';
import { OidcClientService } from '../server/src/auth/session/oidc-client.service';
import { AppConfig } from '../server/src/config/app-config';
import { Environment } from '../server/src/config/environment';
import { parseTrustedProxies } from '../server/src/config/trusted-proxies';
import { startTestApp } from './support/test-app';

/**
 * The deployment in deploy/ checked without Docker: the compose stack, the Keycloak realm, the
 * Prometheus rules, the Grafana dashboard and the Dockerfile against each other and against the
 * app itself (its configuration parser, its OIDC client, and what GET /metrics serves).
 * `docker compose config`, an image build and a running stack are not part of it (README.md in
 * deploy/ says what was run where).
 */

const ROOT = join(__dirname, '..');
const DEPLOY = join(ROOT, 'deploy');
const read = (path: string): string => readFileSync(join(DEPLOY, path), 'utf8');
// Compose reads YAML 1.2 with merge keys (`<<: *app`).
const yaml = (path: string): any => load(read(path), { schema: CORE_SCHEMA.withTags(mergeTag) });

// ---- Compose's .env files and variable interpolation --------------------------------------------

/** A .env file as Compose reads it: NAME=value lines, comments and blank lines skipped, later lines win. */
function parseDotenv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) vars[match[1]] = match[2].replace(/^(["'])(.*)\1$/, '$2');
  }
  return vars;
}

/** The deterministic stand-ins the tests put where .env.example leaves a secret for the operator. */
function filled(vars: Record<string, string>): Record<string, string> {
  const out = { ...vars };
  for (const [name, value] of Object.entries(out)) {
    if (value !== '') continue;
    const secret = createHash('sha256').update(name).digest('hex');
    out[name] = name.startsWith('LITELLM_') ? `sk-${secret}` : secret;
  }
  return out;
}

/** Compose's interpolation of one string: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, ${VAR:+alt}. */
function interpolate(text: string, vars: Record<string, string>, missing: Set<string>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, braced?: string, op?: string, arg?: string, bare?: string) => {
      if (whole === '$$') return '$';
      const name = (braced ?? bare)!;
      const value = vars[name];
      const set = value !== undefined;
      const nonEmpty = set && value !== '';
      switch (op) {
        case ':-':
          return nonEmpty ? value : arg!;
        case '-':
          return set ? value : arg!;
        case ':?':
          if (!nonEmpty) missing.add(name);
          return value ?? '';
        case '?':
          if (!set) missing.add(name);
          return value ?? '';
        case ':+':
          return nonEmpty ? arg! : '';
        case '+':
          return set ? arg! : '';
        default:
          return value ?? '';
      }
    },
  );
}

function interpolateDeep<T>(node: T, vars: Record<string, string>, missing: Set<string>): T {
  if (typeof node === 'string') return interpolate(node, vars, missing) as T;
  if (Array.isArray(node)) return node.map((item) => interpolateDeep(item, vars, missing)) as T;
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, interpolateDeep(value, vars, missing)])) as T;
  }
  return node;
}

/** The compose model as Compose would run it with these settings; throws like Compose when a required variable is missing. */
function composeWith(vars: Record<string, string>): any {
  const missing = new Set<string>();
  const model = interpolateDeep(yaml('compose.yaml'), vars, missing);
  if (missing.size > 0) throw new Error(`required variables missing: ${[...missing].sort().join(', ')}`);
  return model;
}

const environmentOf = (service: any): Record<string, string> => {
  const env = service.environment ?? {};
  return Array.isArray(env) ? Object.fromEntries(env.map((line: string) => line.split(/=(.*)/s).slice(0, 2))) : env;
};

const ipv4 = (address: string): number => address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const inSubnet = (address: string, cidr: string): boolean => {
  const [base, bits] = cidr.split('/');
  const mask = Number(bits) === 0 ? 0 : 2 ** 32 - 2 ** (32 - Number(bits));
  return (ipv4(address) & mask) >>> 0 === (ipv4(base) & mask) >>> 0;
};

const exampleSettings = parseDotenv(read('.env.example'));
const trialSettings = { ...exampleSettings, ...parseDotenv(read('trial.env')) };
const SECRETS = [
  'API_KEY_HASH_SECRET',
  'SESSION_SECRET',
  'LLM_KEY_ENCRYPTION_KEY',
  'VERIFY_SERVICE_TOKEN',
  'LITELLM_MASTER_KEY',
  'METRICS_TOKEN',
];

/** The app's configuration exactly as a replica would parse it at start, with DATA_DIR somewhere that must stay untouched. */
function appConfigFor(compose: any): { config: AppConfig; env: Record<string, string>; dataDirWritten: boolean } {
  const env = environmentOf(compose.services['app-1']);
  const scratch = mkdtempSync(join(tmpdir(), 'deploy-spec-'));
  const dataDir = join(scratch, 'data');
  try {
    const config = AppConfig.fromEnv({ ...env, DATA_DIR: dataDir });
    return { config, env, dataDirWritten: existsSync(dataDir) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

// ---- The compose stack -----------------------------------------------------------------------------

describe('deploy/compose.yaml and its settings', () => {
  // The app replicas: app-1, app-2, … (more are added the same way; see deploy/README.md).
  const APP_SERVICES = Object.keys(yaml('compose.yaml').services).filter((name) => /^app-\d+$/.test(name));

  // Without its comment lines (they quote ${VAR:?…} in prose).
  const rawText = read('compose.yaml').replace(/^\s*#.*$/gm, '');
  const raw = yaml('compose.yaml');
  const compose = composeWith(filled(exampleSettings));

  it('.env.example names every variable Compose requires, and every secret it leaves empty stops Compose until filled in', () => {
    const referenced = [...rawText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?/g)].map(([, name, op]) => ({ name, op }));
    const required = new Set(referenced.filter((r) => r.op === undefined || r.op.includes('?')).map((r) => r.name));
    const documented = new Set(Object.keys(exampleSettings));
    expect([...required].filter((name) => !documented.has(name))).toEqual([]);
    // No setting in .env.example or trial.env that compose.yaml ignores.
    const used = new Set(referenced.map((r) => r.name));
    expect(Object.keys(trialSettings).filter((name) => !used.has(name))).toEqual([]);
    // Left as in .env.example, Compose refuses to start and names exactly the empty values.
    const empty = Object.keys(exampleSettings).filter((name) => exampleSettings[name] === '');
    expect(empty).toEqual(expect.arrayContaining([...SECRETS, 'POSTGRES_PASSWORD', 'APP_DB_PASSWORD']));
    expect(() => composeWith(exampleSettings)).toThrow(`required variables missing: ${[...empty].sort().join(', ')}`);
    // trial.env holds no secret: it only moves the stack to localhost.
    expect(Object.keys(parseDotenv(read('trial.env'))).sort()).toEqual([
      'ALLOW_INSECURE_HTTP',
      'KEYCLOAK_HOSTNAME',
      'KEYCLOAK_URL',
      'PUBLIC_URL',
    ]);
  });

  it('runs two app replicas with the same image, settings and secrets, in production mode', () => {
    expect(APP_SERVICES).toEqual(expect.arrayContaining(['app-1', 'app-2']));
    const [one, ...others] = APP_SERVICES.map((name) => compose.services[name]);
    const { depends_on: _a, ...shared } = one;
    for (const other of others) {
      const { depends_on: _b, ...same } = other;
      expect(same).toEqual(shared);
    }
    expect(one.image).toBeTruthy();
    expect(one.build).toMatchObject({ context: '..', dockerfile: 'deploy/Dockerfile' });

    const env = environmentOf(one);
    expect(env).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', PORT: '3000' });
    const database = new URL(env.DATABASE_URL);
    expect(database.protocol).toBe('postgres:');
    expect(database.hostname).toBe('postgres');
    expect(compose.services[database.hostname]).toBeDefined();
    expect(database.pathname).toBe('/api_keys');
    expect(new URL(env.LITELLM_URL).hostname).toBe('litellm');
    // Every shared secret comes from .env and is required: never generated per replica.
    for (const secret of SECRETS) expect(raw['x-app'].environment[secret]).toMatch(new RegExp(`^\\$\\{${secret}:\\?`));
  });

  it('trusts X-Forwarded-For from the reverse proxy only: TRUST_PROXY is its fixed address on the network it shares with the apps', () => {
    const proxy = compose.services.proxy;
    const proxyAddress: string = proxy.networks.edge.ipv4_address;
    const subnet: string = compose.networks.edge.ipam.config[0].subnet;
    expect(inSubnet(proxyAddress, subnet)).toBe(true);
    for (const name of APP_SERVICES) {
      const env = environmentOf(compose.services[name]);
      expect(parseTrustedProxies(env.TRUST_PROXY)).toEqual([proxyAddress]);
      expect(compose.services[name].networks).toContain('edge');
    }
    // Only the proxy, the apps and Keycloak sit on that network.
    const onEdge = Object.entries<any>(compose.services)
      .filter(([, service]) => (Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? {})).includes('edge'))
      .map(([name]) => name);
    expect(onEdge.sort()).toEqual([...APP_SERVICES, 'keycloak', 'proxy'].sort());
    expect(environmentOf(compose.services.keycloak).KC_PROXY_TRUSTED_ADDRESSES).toBe(proxyAddress);

    // The proxy balances over exactly the app replicas, on the port they listen on.
    const caddyfile = read('caddy/Caddyfile');
    const upstreams = /reverse_proxy\s+((?:app-\d+:\d+\s*)+)\{/.exec(caddyfile)![1].trim().split(/\s+/);
    expect(upstreams).toEqual(APP_SERVICES.map((name) => `${name}:${environmentOf(compose.services[name]).PORT}`));
    expect(caddyfile).toContain('health_uri /api/health/live');
    // Every {$VAR} of the Caddyfile is in the proxy's environment.
    const placeholders = [...caddyfile.matchAll(/\{\$([A-Z_]+)/g)].map(([, name]) => name);
    for (const name of placeholders) expect(environmentOf(proxy)[name]).toBeTruthy();
  });

  it('gives every service a health check, and starts the apps on a healthy database, the second replica after the first (migrations)', () => {
    for (const [name, service] of Object.entries<any>(compose.services)) {
      expect([name, Array.isArray(service.healthcheck?.test) && service.healthcheck.test.length > 1]).toEqual([name, true]);
    }
    for (const name of APP_SERVICES) {
      const test = compose.services[name].healthcheck.test.join(' ');
      expect(test).toContain(`http://127.0.0.1:${environmentOf(compose.services[name]).PORT}/api/health/live`);
      expect(compose.services[name].depends_on.postgres.condition).toBe('service_healthy');
    }
    for (const name of APP_SERVICES.slice(1)) expect(compose.services[name].depends_on['app-1'].condition).toBe('service_healthy');
    expect(compose.services.keycloak.depends_on.postgres.condition).toBe('service_healthy');
    expect(compose.services.litellm.depends_on.postgres.condition).toBe('service_healthy');
  });

  it('has Prometheus scrape both replicas with the METRICS_TOKEN the apps check, from the file compose writes', () => {
    const prometheus = yaml('prometheus/prometheus.yml');
    const job = prometheus.scrape_configs.find((c: any) => c.job_name === 'api-keys');
    expect(job.metrics_path).toBe('/metrics');
    expect(job.static_configs.flatMap((c: any) => c.targets).sort()).toEqual(
      APP_SERVICES.map((name) => `${name}:${environmentOf(compose.services[name]).PORT}`),
    );
    expect(job.authorization.type).toBe('Bearer');
    const service = compose.services.prometheus;
    // compose.yaml's command writes $METRICS_TOKEN ($$ in the file) to the credentials file.
    expect(service.command.join(' ')).toContain(`printf '%s' "$METRICS_TOKEN" > ${job.authorization.credentials_file}`);
    expect(raw.services.prometheus.environment.METRICS_TOKEN).toBe(raw['x-app'].environment.METRICS_TOKEN);
    // The rule file Prometheus loads is the one compose mounts.
    const mounts: string[] = service.volumes;
    for (const file of prometheus.rule_files) expect(mounts).toContain(`./prometheus/${posix.basename(file)}:${file}:ro`);
    // Grafana's dashboard provider reads where compose mounts the dashboards.
    const provider = yaml('grafana/provisioning/dashboards/api-keys.yaml').providers[0];
    expect(compose.services.grafana.volumes).toContain(`./grafana/dashboards:${provider.options.path}:ro`);
  });

  describe.each([
    ['.env.example (a domain with HTTPS)', exampleSettings],
    ['.env.example + trial.env (plain HTTP on localhost)', trialSettings],
  ])('with %s', (_label, settings) => {
    const stack = composeWith(filled(settings));

    it('passes the app’s own configuration check for NODE_ENV=production and writes nothing to disk', () => {
      const { config, dataDirWritten } = appConfigFor(stack);
      expect(config.production).toBe(true);
      expect(config.database.url).toMatch(/^postgres:\/\//);
      expect(config.oidc.embedded).toBe(false);
      expect(config.llmKeys.litellm?.url).toBe('http://litellm:4000');
      // read_only: true in compose.yaml holds only if no secret is generated into DATA_DIR.
      expect(dataDirWritten).toBe(false);
      expect(stack.services['app-1'].read_only).toBe(true);
    });

    it('lets the app reach the issuer at the URL tokens carry: KEYCLOAK_URL is Keycloak’s fixed hostname and, inside, an alias of the proxy', () => {
      const { config, env } = appConfigFor(stack);
      const keycloakEnv = environmentOf(stack.services.keycloak);
      expect(keycloakEnv.KC_HOSTNAME).toBe(env.KEYCLOAK_URL);
      expect(config.oidc.issuer).toBe(`${env.KEYCLOAK_URL}/realms/${env.KEYCLOAK_REALM}`);
      expect(stack.services.proxy.networks.edge.aliases).toEqual([new URL(env.KEYCLOAK_URL).hostname]);
      // The proxy serves both sites (its Caddyfile names them by these variables).
      expect(environmentOf(stack.services.proxy)).toMatchObject({ PUBLIC_URL: env.PUBLIC_URL, KEYCLOAK_URL: env.KEYCLOAK_URL });
    });
  });
});

// ---- The Keycloak realm ------------------------------------------------------------------------------

describe('deploy/keycloak/realm-export.json against the app’s settings in compose.yaml', () => {
  const realmText = read('keycloak/realm-export.json');
  const compose = composeWith(filled(exampleSettings));
  const keycloakEnv = environmentOf(compose.services.keycloak);
  // Keycloak resolves ${VAR} placeholders from its environment when it imports the realm.
  const realm = JSON.parse(
    realmText.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => keycloakEnv[name] ?? `<unset ${name}>`),
  );
  const { config, env } = appConfigFor(compose);
  const client = (clientId: string) => realm.clients.find((c: any) => c.clientId === clientId);
  const audienceMappers = (c: any) => (c.protocolMappers ?? []).filter((m: any) => m.protocolMapper === 'oidc-audience-mapper');

  it('resolves every placeholder from the Keycloak service’s environment, and is imported where Keycloak looks', () => {
    const placeholders = [...realmText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map(([, name]) => name);
    expect(placeholders.length).toBeGreaterThan(0);
    for (const name of placeholders) expect([name, keycloakEnv[name]]).toEqual([name, expect.stringMatching(/.+/)]);
    expect(keycloakEnv.PUBLIC_URL).toBe(env.PUBLIC_URL);
    expect(compose.services.keycloak.command).toEqual(['start-dev', '--import-realm']);
    // --import-realm reads data/import/<realm>-realm.json.
    expect(compose.services.keycloak.volumes).toContain(
      `./keycloak/realm-export.json:/opt/keycloak/data/import/${realm.realm}-realm.json:ro`,
    );
  });

  it('is the realm the app trusts, with Keycloak’s default client scopes (no clientScopes: sub, roles and profile claims stay)', () => {
    expect(realm.realm).toBe(env.KEYCLOAK_REALM);
    expect(realm.enabled).toBe(true);
    expect(config.oidc.issuer.endsWith(`/realms/${realm.realm}`)).toBe(true);
    // A realm file with "clientScopes" replaces Keycloak's defaults, among them `basic` (sub) and `roles`.
    expect(realm.clientScopes).toBeUndefined();
  });

  it('has the console client the app signs in with: public, code flow with PKCE S256, the app’s callback and logout targets', () => {
    const consoleClient = client(config.oidc.clientId);
    expect(consoleClient).toBeDefined();
    expect(env.KEYCLOAK_CLIENT_ID).toBe('console');
    // Public: the app has no client secret to present.
    expect(consoleClient.publicClient).toBe(true);
    expect(config.oidc.clientSecret).toBeUndefined();
    expect(consoleClient).toMatchObject({
      enabled: true,
      protocol: 'openid-connect',
      standardFlowEnabled: true,
      implicitFlowEnabled: false,
    });
    expect(consoleClient.directAccessGrantsEnabled).toBe(false);
    expect(consoleClient.attributes['pkce.code.challenge.method']).toBe('S256');
    expect(consoleClient.redirectUris).toEqual([new OidcClientService(config).redirectUri]);
    // OidcClientService.endSessionUrl sends post_logout_redirect_uri = PUBLIC_URL/.
    expect(consoleClient.attributes['post.logout.redirect.uris']).toBe(`${config.publicUrl}/`);
    expect(consoleClient.webOrigins).toEqual([new URL(config.publicUrl).origin]);
  });

  it('has the cli client for scripts: public, password grant only', () => {
    expect(client('cli')).toMatchObject({ enabled: true, publicClient: true, directAccessGrantsEnabled: true, standardFlowEnabled: false });
  });

  it('puts KEYCLOAK_AUDIENCE into the access tokens of both clients (audience mapper)', () => {
    expect(config.oidc.audiences).toEqual([env.KEYCLOAK_AUDIENCE]);
    for (const clientId of [config.oidc.clientId, 'cli']) {
      const mappers = audienceMappers(client(clientId));
      expect([clientId, mappers.length]).toEqual([clientId, 1]);
      expect(mappers[0].config).toMatchObject({ 'included.custom.audience': env.KEYCLOAK_AUDIENCE, 'access.token.claim': 'true' });
    }
  });

  it('defines the realm roles and demo users, each with a temporary password', () => {
    const roles = realm.roles.realm.map((r: any) => r.name);
    expect(roles).toEqual(expect.arrayContaining(['api-keys-admin', 'api-keys-auditor']));
    // Keycloak puts realm roles in realm_access.roles, where the app reads them.
    expect(config.oidc.claims.roles).toBe('realm_access.roles');
    const users = Object.fromEntries(realm.users.map((u: any) => [u.username, u]));
    expect(Object.keys(users).sort()).toEqual(['admin', 'alice']);
    for (const user of realm.users) {
      expect(user.enabled).toBe(true);
      expect(user.credentials).toEqual([
        expect.objectContaining({ type: 'password', temporary: true, value: expect.stringMatching(/.{16,}/) }),
      ]);
      // Only roles that exist: the realm's own and the default role Keycloak creates on import.
      for (const role of user.realmRoles) expect([...roles, `default-roles-${realm.realm}`]).toContain(role);
    }
    expect(users.admin.realmRoles).toContain('api-keys-admin');
    expect(users.alice.realmRoles).not.toContain('api-keys-admin');
  });
});

// ---- Metrics: the catalogue, the dashboard, the alerts and the app -------------------------------------

interface MetricSpec {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  labels: Record<string, string[] | null>;
}
const catalogue = JSON.parse(read('metrics.json')) as Record<'application' | 'nodeDefaults' | 'prometheus', MetricSpec[]> & {
  targetLabels: string[];
};
const declared: MetricSpec[] = [...catalogue.application, ...catalogue.nodeDefaults, ...catalogue.prometheus];

/** Series name -> the metric it belongs to (a histogram's _bucket, _sum and _count included). */
const seriesIndex = new Map<string, { metric: MetricSpec; labels: string[] }>();
for (const metric of declared) {
  const labels = [...Object.keys(metric.labels), ...catalogue.targetLabels];
  if (metric.type === 'histogram') {
    seriesIndex.set(`${metric.name}_bucket`, { metric, labels: [...labels, 'le'] });
    seriesIndex.set(`${metric.name}_sum`, { metric, labels });
    seriesIndex.set(`${metric.name}_count`, { metric, labels });
  } else seriesIndex.set(metric.name, { metric, labels });
}

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'inf',
  'nan',
]);

/** Metric names in a PromQL expression (identifiers that are not functions, keywords, labels or durations). */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\$\{?\w+\}?/g, '');
  const names = stripped.match(/\b[a-zA-Z_:][\w:]*\b(?!\s*\()/g) ?? [];
  return [...new Set(names.filter((name) => !PROMQL_KEYWORDS.has(name) && !/^\d/.test(name)))];
}

/** Label names and values that selectors and grouping clauses use, per problem found. */
function labelProblems(expr: string): string[] {
  const problems: string[] = [];
  for (const [, name, body] of expr.matchAll(/([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}/g)) {
    const series = seriesIndex.get(name);
    if (!series) continue;
    for (const [, label, op, value] of body.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)) {
      if (!series.labels.includes(label)) problems.push(`${name} has no label ${label}`);
      const known = series.metric.labels[label];
      if (known && (op === '=' || op === '!=') && !known.includes(value)) problems.push(`${name}{${label}} has no value "${value}"`);
    }
  }
  const usable = new Set(metricNames(expr).flatMap((name) => seriesIndex.get(name)?.labels ?? []));
  for (const [, list] of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const label of list.split(',').map((l) => l.trim()))
      if (label && !usable.has(label)) problems.push(`no metric here has label ${label}`);
  }
  return problems;
}

const dashboard = JSON.parse(read('grafana/dashboards/api-keys.json'));
const panels: any[] = dashboard.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]);
const dashboardExprs: string[] = panels.flatMap((p) => (p.targets ?? []).map((t: any) => t.expr));
const alertRules: any[] = yaml('prometheus/alerts.yml').groups.flatMap((g: any) => g.rules);
const alertExprs: string[] = alertRules.map((r) => r.expr);
const usedSeries = [...new Set([...dashboardExprs, ...alertExprs].flatMap(metricNames))];

describe('metrics: deploy/metrics.json, the Grafana dashboard, the alert rules and the app', () => {
  it('the dashboard and the alert rules use only metrics, labels and label values that deploy/metrics.json declares', () => {
    expect(dashboardExprs.length).toBeGreaterThan(10);
    for (const expr of [...dashboardExprs, ...alertExprs]) {
      expect([expr, metricNames(expr).filter((name) => !seriesIndex.has(name))]).toEqual([expr, []]);
      expect([expr, labelProblems(expr)]).toEqual([expr, []]);
    }
  });

  it('the dashboard has a panel for every declared metric, on the provisioned data source', () => {
    const onDashboard = new Set(dashboardExprs.flatMap(metricNames).map((series) => seriesIndex.get(series)!.metric.name));
    expect([...catalogue.application, ...catalogue.nodeDefaults].map((m) => m.name).filter((name) => !onDashboard.has(name))).toEqual([]);
    const datasource = yaml('grafana/provisioning/datasources/prometheus.yaml').datasources[0];
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource).toEqual({ type: datasource.type, uid: datasource.uid });
      expect(panel.targets.length).toBeGreaterThan(0);
    }
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard).toMatchObject({ uid: expect.any(String), title: expect.any(String), schemaVersion: expect.any(Number) });
  });

  it('the alert rules cover instance down, authentication-failure spikes, keys expiring within 7 days and the invalidation listener', () => {
    const byMetric = (metric: string) => alertRules.filter((r) => metricNames(r.expr).includes(metric));
    expect(byMetric('up').length).toBeGreaterThan(0);
    expect(byMetric('api_key_authentications_total').length).toBeGreaterThan(0);
    expect(byMetric('api_keys_expiring_soon').length).toBeGreaterThan(0);
    expect(byMetric('key_invalidation_listener_connected').length).toBeGreaterThan(0);
    for (const rule of alertRules) {
      expect(rule).toMatchObject({ alert: expect.any(String), for: expect.any(String), labels: { severity: expect.any(String) } });
      expect(rule.annotations.summary).toBeTruthy();
    }
  });

  it('the running app serves every declared metric with its type, and every series the dashboard and alerts query (GET /metrics)', async () => {
    const token = createHash('sha256').update('deploy-spec-metrics-token').digest('hex');
    // As Prometheus scrapes it in compose.yaml: with the bearer token from METRICS_TOKEN.
    const app = await startTestApp({ METRICS_TOKEN: token });
    try {
      const response = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      const text = await response.text();
      if (response.status === 404) {
        throw new Error(
          'GET /metrics answered 404: the app does not export metrics yet. deploy/metrics.json lists what the Prometheus ' +
            'scrape, the alert rules and the Grafana dashboard in deploy/ expect (names, types, labels); this test passes once ' +
            'the app serves them (with METRICS_TOKEN as a bearer token when it is set).',
        );
      }
      expect([response.status, text.slice(0, 200)]).toEqual([200, expect.any(String)]);
      const served = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => [name, type]));
      const wrong = [...catalogue.application, ...catalogue.nodeDefaults]
        .filter((metric) => served.get(metric.name) !== metric.type)
        .map((metric) => `${metric.name}: declared ${metric.type}, served ${served.get(metric.name) ?? 'nothing'}`);
      expect(wrong).toEqual([]);
      const queriedButMissing = usedSeries.filter((series) => {
        const metric = seriesIndex.get(series)!.metric;
        return !catalogue.prometheus.includes(metric) && !served.has(metric.name);
      });
      expect(queriedButMissing).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

// ---- The image ---------------------------------------------------------------------------------------------

describe('deploy/Dockerfile and .dockerignore', () => {
  // Instructions, continuation lines joined, comments dropped.
  const instructions = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages: string[][] = [];
  for (const line of instructions) {
    if (/^FROM\s/i.test(line)) stages.push([]);
    stages.at(-1)?.push(line);
  }
  const runtime = stages.at(-1)!;
  const find = (stage: string[], keyword: string) => stage.filter((line) => line.toUpperCase().startsWith(`${keyword} `));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

  it('builds in a build stage (npm ci, npm run build) and runs from node:20-bookworm-slim with production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages[0];
    expect(find(build, 'RUN').join('\n')).toMatch(/npm ci[\s\S]*npm run build/);
    expect(runtime[0]).toMatch(/^FROM node:20-bookworm-slim\b/);
    expect(find(runtime, 'RUN').join('\n')).toContain('npm ci --omit=dev');
    expect(find(runtime, 'COPY').join('\n')).toMatch(/--from=build \/app\/dist \.\/dist/);
  });

  it('runs what `npm run start:prod` runs, as a non-root user, on 0.0.0.0:3000 in production mode, with the console where the app looks', () => {
    const cmd = JSON.parse(find(runtime, 'CMD')[0].slice(4));
    expect(cmd.join(' ')).toBe(pkg.scripts['start:prod']);
    const user = find(runtime, 'USER')[0]?.slice(5).trim();
    expect(user).toBeTruthy();
    expect(['root', '0']).not.toContain(user);
    expect(find(runtime, 'EXPOSE')).toEqual(['EXPOSE 3000']);
    const env = find(runtime, 'ENV').join(' ');
    for (const setting of ['NODE_ENV=production', 'HOST=0.0.0.0', 'PORT=3000']) expect(env).toContain(setting);
    // CLIENT_DIR's default, relative to the working directory, lies inside the copied dist/.
    const workdir = find(runtime, 'WORKDIR')[0].slice(8).trim();
    expect(posix.join(workdir, new Environment().CLIENT_DIR)).toBe(posix.join(workdir, 'dist/client/browser'));
    const healthcheck = find(runtime, 'HEALTHCHECK')[0];
    expect(healthcheck).toContain('/api/health/live');
    expect(healthcheck).toMatch(/CMD \["node", "-e",/);
  });

  it('.dockerignore keeps local state and secrets out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim());
    for (const entry of ['.git', 'node_modules', 'dist', 'data', 'test-results', 'bench-results', '.env']) expect(ignored).toContain(entry);
  });
});
