// Builds and lints infra/main.bicep with the real Bicep compiler (pinned and
// restored through scripts/bicep.sh), then checks the compiled ARM JSON.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bicepScript = path.join(repoRoot, 'scripts', 'bicep.sh');
const mainBicep = path.join(repoRoot, 'infra', 'main.bicep');

// ---------------------------------------------------------------------------
// Running the compiler
// ---------------------------------------------------------------------------

interface RunResult {
  code: number;
  stdout: string;
  /** stdout and stderr together (diagnostics go to stderr). */
  output: string;
}

async function run(file: string, args: string[], timeoutMs = 300_000): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(file, args, {
      cwd: repoRoot,
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' },
    });
    return { code: 0, stdout, output: `${stdout}\n${stderr}` };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string; message: string };
    const code = typeof e.code === 'number' ? e.code : -1;
    return { code, stdout: e.stdout ?? '', output: `${e.stdout ?? ''}\n${e.stderr ?? ''}\n${e.message}` };
  }
}

interface Diagnostic {
  file: string;
  level: 'Error' | 'Warning' | 'Info';
  code: string;
  message: string;
}

const DIAGNOSTIC = /^(.+)\((\d+),(\d+)\) : (Error|Warning|Info) ([A-Za-z0-9-]+): (.*)$/;

function parseDiagnostics(output: string): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const line of output.split(/\r?\n/)) {
    const m = DIAGNOSTIC.exec(line.trim());
    if (m) found.push({ file: m[1], level: m[4] as Diagnostic['level'], code: m[5], message: m[6] });
  }
  return found;
}

function problems(diagnostics: Diagnostic[]): string[] {
  return diagnostics
    .filter((d) => d.level !== 'Info')
    .map((d) => `${path.relative(repoRoot, d.file)}: ${d.level} ${d.code}: ${d.message}`);
}

// ---------------------------------------------------------------------------
// Walking the compiled template (root + nested module deployments)
// ---------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Template extends JsonObject {
  parameters: JsonObject;
  variables: JsonObject;
  resources: Json;
  outputs: JsonObject;
}

interface Scope {
  deployment: string;
  template: Template;
  /** Parameter values handed to this template by its parent deployment. */
  passed: JsonObject;
  parent: Scope | undefined;
}

interface Found {
  symbol: string;
  resource: JsonObject;
  scope: Scope;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function obj(value: Json | undefined, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what} is not an object: ${JSON.stringify(value)}`);
  return value;
}

function str(value: Json | undefined, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what} is not a string: ${JSON.stringify(value)}`);
  return value;
}

function arr(value: Json | undefined, what: string): Json[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not an array: ${JSON.stringify(value)}`);
  return value;
}

function resourcesOf(template: Template): [string, JsonObject][] {
  const r = template.resources;
  if (Array.isArray(r)) return r.map((x, i) => [String(i), obj(x, 'resource')]);
  return Object.entries(obj(r, 'resources')).map(([k, v]) => [k, obj(v, `resource ${k}`)]);
}

function collect(template: Template, scope: Scope, into: Found[]): void {
  for (const [symbol, resource] of resourcesOf(template)) {
    into.push({ symbol, resource, scope });
    if (resource.type === 'Microsoft.Resources/deployments') {
      const props = obj(resource.properties, 'deployment properties');
      const nested = obj(props.template, 'nested template') as Template;
      const child: Scope = {
        deployment: str(resource.name, 'deployment name'),
        template: nested,
        passed: isObject(props.parameters) ? props.parameters : {},
        parent: scope,
      };
      collect(nested, child, into);
    }
  }
}

const PARAM_REF = /^\[parameters\('([^']+)'\)\]$/;
const VAR_REF = /^\[variables\('([^']+)'\)(?:\.([A-Za-z0-9_]+))?\]$/;

/**
 * Resolves plain `[parameters('x')]` / `[variables('x')]` / `[variables('x').y]`
 * expressions through the chain of module deployments down to a literal (a value
 * passed by the parent or a parameter default). Anything else is returned as is.
 */
function resolve(value: Json | undefined, scope: Scope): Json | undefined {
  if (typeof value !== 'string') return value;
  const p = PARAM_REF.exec(value);
  if (p) {
    const name = p[1];
    const passed = scope.passed[name];
    if (isObject(passed) && 'value' in passed && scope.parent) return resolve(passed.value, scope.parent);
    const declared = scope.template.parameters[name];
    return isObject(declared) ? resolve(declared.defaultValue, scope) : undefined;
  }
  const v = VAR_REF.exec(value);
  if (v) {
    const variable = scope.template.variables[v[1]];
    if (v[2] === undefined) return resolve(variable, scope);
    return isObject(variable) ? resolve(variable[v[2]], scope) : undefined;
  }
  return value;
}

function declaredParameter(scope: Scope, name: string): JsonObject {
  return obj(scope.template.parameters[name], `parameter ${name} in ${scope.deployment}`);
}

/** The parameter name an expression like `[parameters('x')]` refers to. */
function paramName(value: Json | undefined): string {
  const m = PARAM_REF.exec(str(value, 'parameter reference'));
  if (!m) throw new Error(`not a plain parameter reference: ${String(value)}`);
  return m[1];
}

// Built-in Azure role definition ids.
const ROLE = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
  cosmosDataContributor: '00000000-0000-0000-0000-000000000002',
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  userAccessAdministrator: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
} as const;

const IDENTITY_PRINCIPAL = "[reference('identity').principalId]";
const IDENTITY_CLIENT = "[reference('identity').clientId]";
const IDENTITY_ID =
  "resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('identityName'))";

const REQUIRED_APP_SETTINGS = [
  'MODEL_STORAGE_ACCOUNT_URL',
  'MODEL_CONTAINER',
  'CORPUS_CONTAINER',
  'COSMOS_ENDPOINT',
  'COSMOS_DATABASE',
  'AZURE_CLIENT_ID',
  'MODEL_REFRESH_SECONDS',
  'RETRAIN_SCHEDULE',
  'TRAINING_JOB_RESOURCE_ID',
  'AUTH_ENABLED',
  'AzureWebJobsStorage__accountName',
  'AzureWebJobsStorage__credential',
  'AzureWebJobsStorage__clientId',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  'CORS_ALLOWED_ORIGINS',
];

const JOB_ENV = [
  'MODEL_STORAGE_ACCOUNT_URL',
  'MODEL_CONTAINER',
  'CORPUS_CONTAINER',
  'CORPUS_BLOB',
  'TRAIN_BUDGET',
  'TRAIN_GATE',
  'AZURE_CLIENT_ID',
];

// Setting names / values that would mean a credential is stored in settings.
const SECRET_NAME =
  /secret|password|passw|pwd|apikey|api_key|accountkey|account_key|(^|_)key($|_)|sas|token|connection_?string/i;
const SECRET_VALUE =
  /AccountKey=|SharedAccessKey|SharedAccessSignature|[?&]sig=|sv=\d{4}-|password=|pwd=|InstrumentationKey=|DefaultEndpointsProtocol=|AccountEndpoint=.*;AccountKey|list[A-Za-z]*(Keys|Secrets|ConnectionStrings|Credentials?)\(/i;
// The App Insights connection string only locates the component; with
// DisableLocalAuth (asserted below) it grants nothing without an Entra token.
const NON_SECRET_ALLOWLIST = new Set(['APPLICATIONINSIGHTS_CONNECTION_STRING']);

// ---------------------------------------------------------------------------

let workDir = '';
let bicep = '';
let buildResult: RunResult = { code: -1, stdout: '', output: '' };
let lintResult: RunResult = { code: -1, stdout: '', output: '' };
let versionResult: RunResult = { code: -1, stdout: '', output: '' };
let badLintResult: RunResult = { code: -1, stdout: '', output: '' };
let goodLintResult: RunResult = { code: -1, stdout: '', output: '' };
let root: Template;
let rootScope: Scope;
const all: Found[] = [];

// ---------------------------------------------------------------------------
// Evaluated deployments: `bicep snapshot` runs the ARM template engine offline
// on a .bicepparam file and predicts every resource (nested modules included)
// with its properties evaluated, and runs fail() checks.
// ---------------------------------------------------------------------------

interface Snapshot {
  predictedResources: JsonObject[];
  diagnostics: Json[];
  outputs: JsonObject;
}

const SNAPSHOT_TARGET = [
  '--subscription-id',
  '00000000-0000-0000-0000-000000000001',
  '--tenant-id',
  '00000000-0000-0000-0000-000000000002',
  '--location',
  'swedencentral',
];

const WEB_ORIGINS = ['https://app.example', 'https://partner.example:8443'];
const WEB_REDIRECTS = ['https://app.example/signed-in', 'https://partner.example/done'];
const WEB_CLIENT_ID = '11111111-2222-4333-8444-555555555555';

/** Parameter files, as `param name = value` lines (besides environmentName and location). */
const SNAPSHOT_PARAMS: Record<string, Record<string, string>> = {
  // Blanks around entries and empty entries are dropped.
  web: {
    authClientId: WEB_CLIENT_ID,
    corsAllowedOrigins: ` ${WEB_ORIGINS[0]}, ,${WEB_ORIGINS[1]},`,
    authAllowedRedirectUrls: WEB_REDIRECTS.join(', '),
  },
  defaults: {},
  corsStar: { corsAllowedOrigins: `${WEB_ORIGINS[0]},*` },
  corsWildcardHost: { corsAllowedOrigins: 'https://*.example' },
  redirectWildcard: { authClientId: WEB_CLIENT_ID, authAllowedRedirectUrls: 'https://app.example/*' },
};

const snapshotRuns: Record<string, RunResult> = {};
const snapshots: Record<string, Snapshot | undefined> = {};

function bicepString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function writeParamFile(dir: string, name: string, params: Record<string, string>): string {
  const file = path.join(dir, `${name}.bicepparam`);
  // `using` needs a relative path.
  const using = path.relative(dir, mainBicep).split(path.sep).join('/');
  const lines = [
    `using ${bicepString(using)}`,
    "param environmentName = 'snaptest'",
    "param location = 'swedencentral'",
  ];
  for (const [k, v] of Object.entries(params)) lines.push(`param ${k} = ${bicepString(v)}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function snapshot(name: string): Snapshot {
  const run = snapshotRuns[name];
  expect(run.code, `bicep snapshot ${name} failed:\n${run.output}`).toBe(0);
  const snap = snapshots[name];
  if (!snap) throw new Error(`no snapshot for ${name}`);
  return snap;
}

function predicted(snap: Snapshot, type: string): JsonObject[] {
  return snap.predictedResources.filter((r) => String(r.type).toLowerCase() === type.toLowerCase());
}

function predictedSite(snap: Snapshot): JsonObject {
  const sites = predicted(snap, 'Microsoft.Web/sites');
  expect(sites).toHaveLength(1);
  return sites[0];
}

function predictedAuth(snap: Snapshot): JsonObject[] {
  return predicted(snap, 'Microsoft.Web/sites/config').filter((r) =>
    str(r.name, 'config name').endsWith('/authsettingsV2'),
  );
}

function predictedAppSettings(snap: Snapshot): Map<string, Json> {
  const siteConfig = obj(obj(predictedSite(snap).properties, 'site properties').siteConfig, 'siteConfig');
  return new Map(
    arr(siteConfig.appSettings, 'appSettings').map((e) => {
      const o = obj(e, 'app setting');
      return [str(o.name, 'name'), o.value] as const;
    }),
  );
}

function ofType(type: string, opts: { existing?: boolean } = {}): Found[] {
  return all.filter(
    (f) =>
      String(f.resource.type).toLowerCase() === type.toLowerCase() &&
      (f.resource.existing === true) === (opts.existing ?? false),
  );
}

function single(type: string): Found {
  const found = ofType(type);
  expect(found, `exactly one ${type}`).toHaveLength(1);
  return found[0];
}

function props(f: Found): JsonObject {
  return obj(f.resource.properties, `${String(f.resource.type)} properties`);
}

beforeAll(async () => {
  const located = await run('bash', [bicepScript, 'path'], 600_000);
  expect(located.code, `scripts/bicep.sh path failed:\n${located.output}`).toBe(0);
  bicep = located.stdout.trim().split(/\r?\n/).pop() ?? '';
  expect(bicep).toMatch(/bicep$/);

  workDir = mkdtempSync(path.join(tmpdir(), 'tracklist-bicep-'));
  const outFile = path.join(workDir, 'main.json');
  // Control files proving that the zero-warning checks can fail.
  const bad = path.join(workDir, 'bad.bicep');
  writeFileSync(bad, 'param unusedParameter string\noutput answer int = 42\n');
  const good = path.join(workDir, 'good.bicep');
  writeFileSync(good, 'output answer int = 42\n');
  const snapshotNames = Object.keys(SNAPSHOT_PARAMS);
  const paramFiles = snapshotNames.map((name) => writeParamFile(workDir, name, SNAPSHOT_PARAMS[name]));
  // The compiler starts slowly; run everything at once.
  const [built, linted, version, badLint, goodLint, ...snapped] = await Promise.all([
    run(bicep, ['build', mainBicep, '--outfile', outFile]),
    run(bicep, ['lint', '--pattern', path.join(repoRoot, 'infra', '**', '*.bicep')]),
    run(bicep, ['--version']),
    run('bash', [bicepScript, 'lint', bad]),
    run('bash', [bicepScript, 'lint', good]),
    ...paramFiles.map((file) => run(bicep, ['snapshot', file, '--mode', 'overwrite', ...SNAPSHOT_TARGET])),
  ]);
  [buildResult, lintResult, versionResult, badLintResult, goodLintResult] = [
    built,
    linted,
    version,
    badLint,
    goodLint,
  ];
  snapshotNames.forEach((name, i) => {
    snapshotRuns[name] = snapped[i];
    const file = path.join(workDir, `${name}.snapshot.json`);
    snapshots[name] = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Snapshot) : undefined;
  });
  expect(buildResult.code, `bicep build failed:\n${buildResult.output}`).toBe(0);
  root = JSON.parse(readFileSync(outFile, 'utf8')) as Template;
  rootScope = { deployment: '(root)', template: root, passed: {}, parent: undefined };
  collect(root, rootScope, all);
}, 600_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('Bicep compiler', () => {
  it('is the pinned version', () => {
    expect(versionResult.code).toBe(0);
    expect(versionResult.output).toMatch(/Bicep CLI version 0\.49\.2\b/);
  });

  it('builds infra/main.bicep with zero errors and zero warnings', () => {
    expect(buildResult.code).toBe(0);
    expect(problems(parseDiagnostics(buildResult.output))).toEqual([]);
  });

  it('lints every infra/**/*.bicep file with zero errors and zero warnings', () => {
    expect(lintResult.code, lintResult.output).toBe(0);
    expect(problems(parseDiagnostics(lintResult.output))).toEqual([]);
  });

  it('really reports problems (the zero-warning checks can fail), and bicep.sh lint fails on a warning', () => {
    expect(problems(parseDiagnostics(badLintResult.output)).join('\n')).toMatch(/Warning no-unused-params/);
    expect(badLintResult.code).not.toBe(0);
    expect(goodLintResult.code, goodLintResult.output).toBe(0);
    expect(problems(parseDiagnostics(goodLintResult.output))).toEqual([]);
  });
});

describe('compiled template: scope, parameters, outputs, tags', () => {
  it('deploys at subscription scope and creates the tagged resource group', () => {
    expect(str(root.$schema, '$schema')).toMatch(/subscriptionDeploymentTemplate\.json/);
    const rg = single('Microsoft.Resources/resourceGroups');
    expect(rg.scope).toBe(rootScope);
    const tags = obj(resolve(rg.resource.tags, rootScope), 'rg tags');
    expect(tags['azd-env-name']).toBe("[parameters('environmentName')]");
  });

  it('declares the parameters with the documented defaults', () => {
    const p = root.parameters;
    for (const required of ['environmentName', 'location']) {
      expect(obj(p[required], required).defaultValue, `${required} has no default`).toBeUndefined();
    }
    expect(obj(p.modelRefreshSeconds, 'modelRefreshSeconds').defaultValue).toBe(300);
    const schedule = str(obj(p.retrainSchedule, 'retrainSchedule').defaultValue, 'retrainSchedule default');
    expect(schedule).toBe('0 0 3 * * 0');
    expect(schedule.split(' ')).toHaveLength(6);
    expect(obj(p.corpusBlob, 'corpusBlob').defaultValue).toBe('corpus.jsonl');
    expect(obj(p.trainBudget, 'trainBudget').allowedValues).toEqual(['fast', 'full']);
    expect(obj(p.functionInstanceMemoryMB, 'functionInstanceMemoryMB').defaultValue).toBe(2048);
    expect(obj(p.functionAlwaysReadyInstances, 'functionAlwaysReadyInstances').defaultValue).toBe(0);
    expect(obj(p.authClientId, 'authClientId').defaultValue).toBe('');
    // Lists arrive from azd as one string: comma-separated, empty = none.
    for (const name of ['corsAllowedOrigins', 'authAllowedRedirectUrls']) {
      expect(obj(p[name], name).type, name).toBe('string');
      expect(obj(p[name], name).defaultValue, name).toBe('');
    }
    for (const name of ['trainingImage', 'trainingCpu', 'trainingMemory']) expect(p[name]).toBeDefined();
    // Nothing secret is a parameter.
    for (const [name, decl] of Object.entries(p)) {
      expect(String(obj(decl, name).type).toLowerCase(), name).not.toMatch(/^secure/);
    }
  });

  it('emits the outputs azd and the README rely on', () => {
    for (const name of [
      'AZURE_LOCATION',
      'AZURE_TENANT_ID',
      'AZURE_RESOURCE_GROUP',
      'AZURE_FUNCTION_APP_NAME',
      'AZURE_FUNCTION_APP_URL',
      'AZURE_STORAGE_ACCOUNT_NAME',
      'AZURE_CONTAINER_REGISTRY_NAME',
      'AZURE_CONTAINER_REGISTRY_ENDPOINT',
      'AZURE_TRAINING_JOB_NAME',
      'AZURE_MANAGED_IDENTITY_CLIENT_ID',
      'MODEL_STORAGE_ACCOUNT_URL',
      'COSMOS_ENDPOINT',
      'TRAINING_JOB_RESOURCE_ID',
      'AZURE_WEB_URL',
      'CORS_ALLOWED_ORIGINS',
    ]) {
      expect(root.outputs[name], name).toBeDefined();
    }
    // The web app is served by the Function App: same URL.
    const webUrl = str(obj(root.outputs.AZURE_WEB_URL, 'AZURE_WEB_URL').value, 'AZURE_WEB_URL');
    expect(webUrl).toMatch(
      /'Microsoft\.Resources\/deployments', 'api'\), '[0-9-]+'\)\.outputs\.uri\.value\]$/,
    );
    expect(webUrl).toBe(obj(root.outputs.AZURE_FUNCTION_APP_URL, 'AZURE_FUNCTION_APP_URL').value);
    expect(obj(root.outputs.CORS_ALLOWED_ORIGINS, 'CORS_ALLOWED_ORIGINS').value).toBe(
      "[join(variables('corsOrigins'), ',')]",
    );
    expect(obj(root.outputs.MODEL_CONTAINER, 'out').value).toBe("[variables('modelContainerName')]");
    expect(resolve("[variables('modelContainerName')]", rootScope)).toBe('models');
  });

  it('tags every located resource with the azd environment tags', () => {
    const located = all.filter(
      (f) => f.resource.existing !== true && f.resource.location !== undefined && f.scope !== rootScope,
    );
    expect(located.length).toBeGreaterThanOrEqual(10);
    for (const f of located) {
      const tags = str(f.resource.tags, `${String(f.resource.type)} tags`);
      expect(tags, String(f.resource.type)).toContain("parameters('tags')");
      const resolved = obj(resolve("[parameters('tags')]", f.scope), 'resolved tags');
      expect(resolved['azd-env-name']).toBe("[parameters('environmentName')]");
    }
  });

  it('uses no key-listing functions and no secure values anywhere', () => {
    const text = JSON.stringify(root);
    expect(text).not.toMatch(/list(Keys|Secrets|ConnectionStrings|Credentials?|AdminKeys)\(/i);
    expect(text).not.toMatch(/"securestring"|"secureObject"/i);
  });
});

describe('managed identity', () => {
  it('is one user-assigned identity attached to the Function App and the training job', () => {
    const identities = ofType('Microsoft.ManagedIdentity/userAssignedIdentities');
    expect(identities).toHaveLength(1);
    const name = resolve(identities[0].resource.name, identities[0].scope);
    expect(name).toBe("[format('id-{0}', variables('resourceToken'))]");

    for (const type of ['Microsoft.Web/sites', 'Microsoft.App/jobs']) {
      const f = single(type);
      const identity = obj(f.resource.identity, `${type} identity`);
      expect(identity.type).toBe('UserAssigned');
      const keys = Object.keys(obj(identity.userAssignedIdentities, 'userAssignedIdentities'));
      expect(keys).toHaveLength(1);
      expect(keys[0]).toContain(IDENTITY_ID);
      // The module's identityName is the same compile-time name as the identity resource.
      expect(resolve("[parameters('identityName')]", f.scope)).toBe(name);
    }
  });
});

describe('storage account', () => {
  it('is HTTPS-only, TLS 1.2+, without shared keys or public blob access', () => {
    const p = props(single('Microsoft.Storage/storageAccounts'));
    expect(p.allowSharedKeyAccess).toBe(false);
    expect(p.allowBlobPublicAccess).toBe(false);
    expect(p.supportsHttpsTrafficOnly).toBe(true);
    expect(p.minimumTlsVersion).toBe('TLS1_2');
    expect(p.defaultToOAuthAuthentication).toBe(true);
  });

  it('has private containers for models, corpus and the deployment package', () => {
    const f = single('Microsoft.Storage/storageAccounts/blobServices/containers');
    expect(props(f).publicAccess).toBe('None');
    const name = str(f.resource.name, 'container name');
    const wanted: Record<string, string> = {
      modelContainerName: 'models',
      corpusContainerName: 'corpus',
      deploymentContainerName: 'app-package',
    };
    for (const [param, value] of Object.entries(wanted)) {
      expect(name).toContain(`parameters('${param}')`);
      expect(resolve(`[parameters('${param}')]`, f.scope)).toBe(value);
    }
    expect(str(obj(f.resource.copy, 'copy').count, 'count')).toMatch(/length\(createArray\(/);
  });
});

describe('Function App (Flex Consumption)', () => {
  it('runs on an FC1 Flex Consumption plan', () => {
    const plan = single('Microsoft.Web/serverfarms');
    expect(obj(plan.resource.sku, 'sku')).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
    expect(props(plan).reserved).toBe(true);
  });

  it('is HTTPS-only with TLS 1.2, Node 22, identity-based deployment storage', () => {
    const site = single('Microsoft.Web/sites');
    expect(site.resource.kind).toBe('functionapp,linux');
    const p = props(site);
    expect(p.httpsOnly).toBe(true);
    const siteConfig = obj(p.siteConfig, 'siteConfig');
    expect(siteConfig.minTlsVersion).toBe('1.2');
    const fac = obj(p.functionAppConfig, 'functionAppConfig');
    expect(obj(fac.runtime, 'runtime')).toEqual({ name: 'node', version: '22' });
    const storage = obj(obj(fac.deployment, 'deployment').storage, 'deployment storage');
    expect(storage.type).toBe('blobContainer');
    const auth = obj(storage.authentication, 'deployment auth');
    expect(auth.type).toBe('UserAssignedIdentity');
    expect(auth.userAssignedIdentityResourceId).toBe(`[${IDENTITY_ID}]`);
    expect(auth.storageAccountConnectionStringName).toBeUndefined();
    expect(resolve("[parameters('deploymentContainerUrl')]", site.scope)).toMatch(
      /outputs\.deploymentContainerUrl\.value/,
    );

    const scale = obj(fac.scaleAndConcurrency, 'scaleAndConcurrency');
    expect(resolve(scale.instanceMemoryMB, site.scope)).toBe(2048);
    expect(str(scale.alwaysReady, 'alwaysReady')).toContain(
      "createObject('name', 'http', 'instanceCount', parameters('alwaysReadyInstances'))",
    );
  });

  it('is tagged azd-service-name=api', () => {
    const site = single('Microsoft.Web/sites');
    expect(str(site.resource.tags, 'site tags')).toBe(
      "[union(parameters('tags'), createObject('azd-service-name', parameters('serviceName')))]",
    );
    expect(resolve("[parameters('serviceName')]", site.scope)).toBe('api');
  });

  function appSettings(): Map<string, string> {
    const site = single('Microsoft.Web/sites');
    const list = arr(obj(props(site).siteConfig, 'siteConfig').appSettings, 'appSettings');
    const map = new Map<string, string>();
    for (const entry of list) {
      const e = obj(entry, 'app setting');
      const name = str(e.name, 'app setting name');
      expect(map.has(name), `duplicate ${name}`).toBe(false);
      map.set(name, str(e.value, `value of ${name}`));
    }
    return map;
  }

  it('has exactly the app settings the code reads, with the right values', () => {
    const site = single('Microsoft.Web/sites');
    const s = appSettings();
    expect([...s.keys()].sort()).toEqual([...REQUIRED_APP_SETTINGS].sort());
    const value = (name: string) => resolve(s.get(name), site.scope);
    expect(value('MODEL_CONTAINER')).toBe('models');
    expect(value('CORPUS_CONTAINER')).toBe('corpus');
    expect(value('COSMOS_DATABASE')).toMatch(/outputs\.databaseName\.value/);
    expect(resolve("[variables('cosmosDatabaseName')]", rootScope)).toBe('tracklist');
    expect(value('MODEL_STORAGE_ACCOUNT_URL')).toMatch(
      /'storage'\), '[0-9-]+'\)\.outputs\.blobEndpoint\.value\]$/,
    );
    expect(value('COSMOS_ENDPOINT')).toMatch(/'cosmos'\), '[0-9-]+'\)\.outputs\.endpoint\.value\]$/);
    expect(value('TRAINING_JOB_RESOURCE_ID')).toMatch(/'training'\), '[0-9-]+'\)\.outputs\.jobId\.value\]$/);
    expect(s.get('MODEL_REFRESH_SECONDS')).toBe("[string(parameters('modelRefreshSeconds'))]");
    expect(resolve("[parameters('modelRefreshSeconds')]", site.scope)).toBe(300);
    expect(value('RETRAIN_SCHEDULE')).toBe('0 0 3 * * 0');
    expect(s.get('AZURE_CLIENT_ID')).toBe(IDENTITY_CLIENT);
    expect(s.get('AUTH_ENABLED')).toBe("[if(variables('authEnabled'), 'true', 'false')]");
    expect(site.scope.template.variables.authEnabled).toBe("[not(empty(parameters('authClientId')))]");
    // The same comma-separated list the platform CORS gets (see "web app" below).
    expect(s.get('CORS_ALLOWED_ORIGINS')).toBe("[join(parameters('corsAllowedOrigins'), ',')]");
  });

  it('connects to host storage and App Insights with the identity, not with keys', () => {
    const site = single('Microsoft.Web/sites');
    const s = appSettings();
    expect(s.has('AzureWebJobsStorage')).toBe(false);
    expect(resolve(s.get('AzureWebJobsStorage__accountName'), site.scope)).toMatch(/outputs\.name\.value\]$/);
    expect(s.get('AzureWebJobsStorage__credential')).toBe('managedidentity');
    expect(s.get('AzureWebJobsStorage__clientId')).toBe(IDENTITY_CLIENT);
    expect(s.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toBe(
      "[format('ClientId={0};Authorization=AAD', reference('identity').clientId)]",
    );
    expect(s.get('APPLICATIONINSIGHTS_CONNECTION_STRING')).toBe(
      "[reference('appInsights').ConnectionString]",
    );
    // Flex Consumption rejects these legacy settings.
    for (const legacy of [
      'FUNCTIONS_WORKER_RUNTIME',
      'FUNCTIONS_EXTENSION_VERSION',
      'WEBSITE_RUN_FROM_PACKAGE',
      'WEBSITE_NODE_DEFAULT_VERSION',
    ]) {
      expect(s.has(legacy), legacy).toBe(false);
    }
  });

  it('has no app setting whose name or value looks like a secret, key, SAS, password or connection string', () => {
    const s = appSettings();
    const offenders: string[] = [];
    for (const [name, value] of s) {
      if (!NON_SECRET_ALLOWLIST.has(name) && SECRET_NAME.test(name)) offenders.push(`name ${name}`);
      if (SECRET_VALUE.test(value)) offenders.push(`value of ${name}: ${value}`);
    }
    expect(offenders).toEqual([]);
    // The detector itself works on typical leaked values.
    expect(SECRET_VALUE.test('DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc==')).toBe(true);
    expect(
      SECRET_VALUE.test(
        "[listKeys(resourceId('Microsoft.Storage/storageAccounts', 'x'), '2023-01-01').keys[0].value]",
      ),
    ).toBe(true);
    expect(SECRET_VALUE.test('https://x.blob.core.windows.net/c?sv=2022-11-02&sig=abc')).toBe(true);
    expect(SECRET_NAME.test('COSMOS_KEY')).toBe(true);
    expect(SECRET_NAME.test('AzureWebJobsStorage')).toBe(false);
  });

  it('turns basic-auth publishing credentials off on the SCM site', () => {
    const policies = ofType('Microsoft.Web/sites/basicPublishingCredentialsPolicies');
    expect(policies.map((f) => [str(f.resource.name, 'name'), props(f).allow])).toEqual([
      ["[format('{0}/{1}', parameters('name'), 'scm')]", false],
    ]);
  });

  it('configures App Service Authentication (authsettingsV2) with Entra ID and anonymous access allowed', () => {
    const configs = ofType('Microsoft.Web/sites/config').filter((f) =>
      str(f.resource.name, 'name').includes("'authsettingsV2'"),
    );
    expect(configs).toHaveLength(1);
    const f = configs[0];
    expect(f.resource.condition).toBe("[variables('authEnabled')]");
    const p = props(f);
    expect(obj(p.platform, 'platform').enabled).toBe(true);
    const gv = obj(p.globalValidation, 'globalValidation');
    expect(gv.unauthenticatedClientAction).toBe('AllowAnonymous');
    expect(gv.requireAuthentication).toBe(false);
    const aad = obj(
      obj(p.identityProviders, 'identityProviders').azureActiveDirectory,
      'azureActiveDirectory',
    );
    expect(aad.enabled).toBe(true);
    const reg = obj(aad.registration, 'registration');
    expect(paramName(reg.clientId)).toBe('authClientId');
    expect(resolve(reg.clientId, f.scope)).toBe('');
    expect(reg.clientSecretSettingName).toBeUndefined();
    expect(str(reg.openIdIssuer, 'openIdIssuer')).toBe(
      "[format('{0}{1}/v2.0', environment().authentication.loginEndpoint, tenant().tenantId)]",
    );
    expect(obj(aad.validation, 'validation').allowedAudiences).toEqual([
      "[parameters('authClientId')]",
      "[format('api://{0}', parameters('authClientId'))]",
    ]);
    expect(obj(p.httpSettings, 'httpSettings').requireHttps).toBe(true);
    const login = obj(p.login, 'login');
    // Session cookie only: no provider tokens are stored.
    expect(obj(login.tokenStore, 'tokenStore').enabled).toBe(false);
    expect(login.preserveUrlFragmentsForLogins).toBe(true);
    expect(paramName(login.allowedExternalRedirectUrls)).toBe('authAllowedRedirectUrls');
    expect(obj(f.scope.passed.authAllowedRedirectUrls, 'passed authAllowedRedirectUrls').value).toBe(
      "[variables('authRedirectUrls')]",
    );
  });
});

describe('web app on the Function App: CORS and sign-in redirects', () => {
  const WILDCARD_CHECK = {
    corsOrigins: ['corsOriginList', 'origin', 'corsAllowedOrigins (CORS_ALLOWED_ORIGINS)', 'origins'],
    authRedirectUrls: [
      'authRedirectUrlList',
      'url',
      'authAllowedRedirectUrls (AUTH_ALLOWED_REDIRECT_URLS)',
      'URLs',
    ],
  } as const;

  it('splits the comma-separated parameters into lists and fails the deployment on a wildcard entry', () => {
    const v = root.variables;
    // Split on commas, trim, drop empty entries.
    for (const [list, param, item] of [
      ['corsOriginList', 'corsAllowedOrigins', 'origin'],
      ['authRedirectUrlList', 'authAllowedRedirectUrls', 'url'],
    ]) {
      expect(v[list], list).toBe(
        `[filter(map(split(parameters('${param}'), ','), lambda('${item}', trim(lambdaVariables('${item}')))), ` +
          `lambda('${item}', not(empty(lambdaVariables('${item}')))))]`,
      );
    }
    for (const [checked, [list, item, what, noun]] of Object.entries(WILDCARD_CHECK)) {
      expect(v[checked], checked).toBe(
        `[if(empty(filter(variables('${list}'), lambda('${item}', contains(lambdaVariables('${item}'), '*')))), ` +
          `variables('${list}'), fail('${what} must list explicit ${noun}; "*" and wildcard entries are not allowed'))]`,
      );
    }
  });

  it('sets platform CORS from the checked list, without credentials', () => {
    const site = single('Microsoft.Web/sites');
    const cors = obj(obj(props(site).siteConfig, 'siteConfig').cors, 'cors');
    expect(cors).toEqual({ allowedOrigins: "[parameters('corsAllowedOrigins')]", supportCredentials: false });
    expect(obj(site.scope.passed.corsAllowedOrigins, 'passed corsAllowedOrigins').value).toBe(
      "[variables('corsOrigins')]",
    );
    expect(declaredParameter(site.scope, 'corsAllowedOrigins').type).toBe('array');
    expect(declaredParameter(site.scope, 'authAllowedRedirectUrls').type).toBe('array');
  });

  it('evaluates to the listed origins and redirect URLs (bicep snapshot)', () => {
    const snap = snapshot('web');
    expect(snap.diagnostics).toEqual([]);
    const siteConfig = obj(obj(predictedSite(snap).properties, 'site properties').siteConfig, 'siteConfig');
    expect(siteConfig.cors).toEqual({ allowedOrigins: WEB_ORIGINS, supportCredentials: false });
    const settings = predictedAppSettings(snap);
    expect(settings.get('CORS_ALLOWED_ORIGINS')).toBe(WEB_ORIGINS.join(','));
    expect(settings.get('AUTH_ENABLED')).toBe('true');
    expect(snap.outputs.CORS_ALLOWED_ORIGINS).toBe(WEB_ORIGINS.join(','));
    expect(snap.outputs.AZURE_WEB_URL).toBe(snap.outputs.AZURE_FUNCTION_APP_URL);

    const auth = predictedAuth(snap);
    expect(auth).toHaveLength(1);
    const p = obj(auth[0].properties, 'authsettingsV2 properties');
    expect(obj(p.globalValidation, 'globalValidation')).toEqual({
      requireAuthentication: false,
      unauthenticatedClientAction: 'AllowAnonymous',
    });
    expect(obj(p.httpSettings, 'httpSettings').requireHttps).toBe(true);
    expect(obj(p.login, 'login')).toEqual({
      tokenStore: { enabled: false },
      allowedExternalRedirectUrls: WEB_REDIRECTS,
      preserveUrlFragmentsForLogins: true,
    });
    const aad = obj(
      obj(p.identityProviders, 'identityProviders').azureActiveDirectory,
      'azureActiveDirectory',
    );
    expect(obj(aad.registration, 'registration').clientId).toBe(WEB_CLIENT_ID);
    expect(obj(aad.validation, 'validation').allowedAudiences).toEqual([
      WEB_CLIENT_ID,
      `api://${WEB_CLIENT_ID}`,
    ]);
  });

  it('allows no cross-origin callers and configures no authentication by default (bicep snapshot)', () => {
    const snap = snapshot('defaults');
    const siteConfig = obj(obj(predictedSite(snap).properties, 'site properties').siteConfig, 'siteConfig');
    expect(siteConfig.cors).toEqual({ allowedOrigins: [], supportCredentials: false });
    expect(predictedAppSettings(snap).get('CORS_ALLOWED_ORIGINS')).toBe('');
    expect(predictedAppSettings(snap).get('AUTH_ENABLED')).toBe('false');
    expect(predictedAuth(snap)).toEqual([]);
    expect(snap.outputs.CORS_ALLOWED_ORIGINS).toBe('');
  });

  it('rejects "*" and wildcard entries before predicting any resource (bicep snapshot)', () => {
    const cases: [string, RegExp][] = [
      [
        'corsStar',
        /variable 'corsOrigins' is not valid: corsAllowedOrigins \(CORS_ALLOWED_ORIGINS\) must list explicit origins/,
      ],
      ['corsWildcardHost', /variable 'corsOrigins' is not valid: corsAllowedOrigins/],
      [
        'redirectWildcard',
        /variable 'authRedirectUrls' is not valid: authAllowedRedirectUrls \(AUTH_ALLOWED_REDIRECT_URLS\) must list explicit URLs/,
      ],
    ];
    for (const [name, message] of cases) {
      expect(snapshotRuns[name].code, name).not.toBe(0);
      expect(snapshotRuns[name].output, name).toMatch(message);
      expect(snapshots[name], name).toBeUndefined();
    }
  });
});

describe('Cosmos DB for NoSQL', () => {
  it('is serverless with local (key) auth disabled and TLS 1.2', () => {
    const p = props(single('Microsoft.DocumentDB/databaseAccounts'));
    expect(p.disableLocalAuth).toBe(true);
    expect(p.disableKeyBasedMetadataWriteAccess).toBe(true);
    expect(p.minimalTlsVersion).toBe('Tls12');
    expect(p.capabilities).toEqual([{ name: 'EnableServerless' }]);
  });

  it('has database tracklist with users (/id) and tracklists (/userId)', () => {
    const db = single('Microsoft.DocumentDB/databaseAccounts/sqlDatabases');
    expect(resolve(obj(props(db).resource, 'db resource').id, db.scope)).toBe('tracklist');
    const containers = ofType('Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
    const partitionKeys = Object.fromEntries(
      containers.map((c) => {
        const r = obj(props(c).resource, 'container resource');
        return [str(r.id, 'id'), obj(r.partitionKey, 'partitionKey').paths];
      }),
    );
    expect(partitionKeys).toEqual({ users: ['/id'], tracklists: ['/userId'] });
  });

  it('grants the identity the built-in Data Contributor data-plane role on the database', () => {
    const ra = single('Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments');
    const p = props(ra);
    expect(str(p.roleDefinitionId, 'roleDefinitionId')).toMatch(
      new RegExp(`/sqlRoleDefinitions/${ROLE.cosmosDataContributor}'`),
    );
    expect(p.principalId).toBe(IDENTITY_PRINCIPAL);
    expect(str(p.scope, 'scope')).toMatch(/\/dbs\//);
  });
});

describe('monitoring', () => {
  it('uses Entra-only ingestion for Application Insights', () => {
    const ai = single('Microsoft.Insights/components');
    const p = props(ai);
    expect(p.DisableLocalAuth).toBe(true);
    expect(p.WorkspaceResourceId).toBe(
      "[resourceId('Microsoft.OperationalInsights/workspaces', parameters('logAnalyticsName'))]",
    );
    const law = props(single('Microsoft.OperationalInsights/workspaces'));
    expect(obj(law.features, 'features').disableLocalAuth).toBe(true);
  });
});

describe('training: Container Apps environment, job and registry', () => {
  it('ships environment logs without a workspace shared key', () => {
    const env = props(single('Microsoft.App/managedEnvironments'));
    expect(obj(env.appLogsConfiguration, 'appLogsConfiguration')).toEqual({ destination: 'azure-monitor' });
    const diag = single('Microsoft.Insights/diagnosticSettings');
    expect(str(props(diag).workspaceId, 'workspaceId')).toBe("[parameters('logAnalyticsWorkspaceId')]");
  });

  it('is a manually triggered job pulling from the registry with the identity', () => {
    const job = single('Microsoft.App/jobs');
    const p = props(job);
    const config = obj(p.configuration, 'configuration');
    expect(config.triggerType).toBe('Manual');
    expect(obj(config.manualTriggerConfig, 'manualTriggerConfig').parallelism).toBe(1);
    expect(config.secrets).toBeUndefined();
    const registries = arr(config.registries, 'registries').map((r) => obj(r, 'registry'));
    expect(registries).toHaveLength(1);
    expect(registries[0].identity).toBe(`[${IDENTITY_ID}]`);
    expect(registries[0].passwordSecretRef).toBeUndefined();
    expect(resolve(registries[0].server, job.scope)).toMatch(/outputs\.loginServer\.value\]$/);
  });

  it('takes image, CPU and memory from parameters and sets the required environment', () => {
    const job = single('Microsoft.App/jobs');
    const containers = arr(obj(props(job).template, 'job template').containers, 'containers').map((c) =>
      obj(c, 'container'),
    );
    expect(containers).toHaveLength(1);
    const c = containers[0];
    expect(paramName(c.image)).toBe('image');
    // The module gets trainingImage, else the image azd deployed last, else a placeholder.
    expect(str(job.scope.passed.image, 'passed image')).toBe(
      "[if(not(empty(parameters('trainingImage'))), createObject('value', parameters('trainingImage')), " +
        "if(not(empty(parameters('deployedTrainingImage'))), createObject('value', parameters('deployedTrainingImage')), " +
        "createObject('value', variables('placeholderTrainingImage'))))]",
    );
    expect(obj(root.parameters.trainingImage, 'trainingImage').defaultValue).toBe('');
    expect(obj(root.parameters.deployedTrainingImage, 'deployedTrainingImage').defaultValue).toBe('');
    const res = obj(c.resources, 'resources');
    expect(res.cpu).toBe("[json(parameters('cpu'))]");
    expect(resolve("[parameters('cpu')]", job.scope)).toBe('2.0');
    expect(resolve(res.memory, job.scope)).toBe('4Gi');

    const env = new Map(
      arr(c.env, 'env').map((e) => {
        const o = obj(e, 'env var');
        expect(o.secretRef, String(o.name)).toBeUndefined();
        return [str(o.name, 'env name'), o.value] as const;
      }),
    );
    expect([...env.keys()].sort()).toEqual([...JOB_ENV].sort());
    expect(resolve(env.get('MODEL_CONTAINER'), job.scope)).toBe('models');
    expect(resolve(env.get('CORPUS_CONTAINER'), job.scope)).toBe('corpus');
    expect(resolve(env.get('CORPUS_BLOB'), job.scope)).toBe('corpus.jsonl');
    expect(resolve(env.get('TRAIN_BUDGET'), job.scope)).toBe('full');
    expect(resolve(env.get('TRAIN_GATE'), job.scope)).toBe('on');
    expect(obj(root.parameters.trainGate, 'trainGate').allowedValues).toEqual(['on', 'off']);
    expect(declaredParameter(job.scope, 'trainBudget').allowedValues).toEqual(['fast', 'full']);
    expect(env.get('AZURE_CLIENT_ID')).toBe(IDENTITY_CLIENT);
    expect(resolve(env.get('MODEL_STORAGE_ACCOUNT_URL'), job.scope)).toMatch(
      /outputs\.blobEndpoint\.value\]$/,
    );
  });

  it('uses a registry without admin user or anonymous pull', () => {
    const p = props(single('Microsoft.ContainerRegistry/registries'));
    expect(p.adminUserEnabled).toBe(false);
    expect(p.anonymousPullEnabled).toBe(false);
  });
});

describe('role assignments (least privilege)', () => {
  function assignments(): { f: Found; roleDefinitionId: string; principalId: string; scope: string }[] {
    return ofType('Microsoft.Authorization/roleAssignments').map((f) => {
      const p = props(f);
      return {
        f,
        roleDefinitionId: str(p.roleDefinitionId, 'roleDefinitionId'),
        principalId: str(p.principalId, 'principalId'),
        scope: str(f.resource.scope, 'scope'),
      };
    });
  }

  function forRole(roleId: string) {
    return assignments().filter((a) => a.roleDefinitionId.includes(`'${roleId}'`));
  }

  it('grants the identity exactly the expected built-in roles, each on its one resource', () => {
    const expected: [string, string][] = [
      [ROLE.storageBlobDataOwner, 'Microsoft.Storage/storageAccounts'],
      [ROLE.acrPull, 'Microsoft.ContainerRegistry/registries'],
      [ROLE.monitoringMetricsPublisher, 'Microsoft.Insights/components'],
    ];
    for (const [roleId, scopeType] of expected) {
      const found = forRole(roleId).filter((a) => a.principalId === IDENTITY_PRINCIPAL);
      expect(found, roleId).toHaveLength(1);
      expect(found[0].roleDefinitionId).toBe(
        `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${roleId}')]`,
      );
      expect(found[0].scope).toContain(scopeType);
      expect(props(found[0].f).principalType).toBe('ServicePrincipal');
    }
  });

  it('grants the deploying user (optional) only Storage Blob Data Contributor', () => {
    const user = assignments().filter((a) => a.principalId !== IDENTITY_PRINCIPAL);
    expect(user).toHaveLength(1);
    expect(user[0].roleDefinitionId).toContain(`'${ROLE.storageBlobDataContributor}'`);
    expect(user[0].f.resource.condition).toBe("[not(empty(parameters('userPrincipalId')))]");
  });

  it('never assigns Owner, Contributor or User Access Administrator', () => {
    // The identity's three built-in roles and its job role, and the deploying user's one.
    expect(assignments()).toHaveLength(5);
    for (const a of assignments()) {
      for (const broad of [ROLE.owner, ROLE.contributor, ROLE.userAccessAdministrator]) {
        expect(a.roleDefinitionId).not.toContain(broad);
      }
    }
  });

  it('lets the identity start the training job through a custom role scoped to the job', () => {
    const defs = ofType('Microsoft.Authorization/roleDefinitions');
    expect(defs).toHaveLength(1);
    const def = defs[0];
    const dp = props(def);
    expect(dp.type).toBe('CustomRole');
    expect(dp.assignableScopes).toEqual(['[resourceGroup().id]']);
    const permissions = arr(dp.permissions, 'permissions').map((x) => obj(x, 'permission'));
    expect(permissions).toHaveLength(1);
    expect(permissions[0].actions).toEqual(['Microsoft.App/jobs/start/action']);
    expect(permissions[0].dataActions).toEqual([]);

    const starter = assignments().filter(
      (a) =>
        a.roleDefinitionId.includes("'Microsoft.Authorization/roleDefinitions'") &&
        !a.roleDefinitionId.includes('subscriptionResourceId'),
    );
    expect(starter).toHaveLength(1);
    expect(starter[0].f.scope).toBe(def.scope);
    expect(starter[0].roleDefinitionId).toBe(
      `[resourceId('Microsoft.Authorization/roleDefinitions', ${str(def.resource.name, 'def name').slice(1, -1)})]`,
    );
    expect(starter[0].scope).toBe("[resourceId('Microsoft.App/jobs', parameters('jobName'))]");
    expect(starter[0].principalId).toBe(IDENTITY_PRINCIPAL);
  });
});

describe('azd wiring', () => {
  it('main.parameters.json maps azd variables onto existing parameters', () => {
    const file = JSON.parse(readFileSync(path.join(repoRoot, 'infra', 'main.parameters.json'), 'utf8')) as {
      parameters: Record<string, { value: unknown }>;
    };
    expect(file.parameters.environmentName.value).toBe('${AZURE_ENV_NAME}');
    expect(file.parameters.location.value).toBe('${AZURE_LOCATION}');
    expect(file.parameters.principalId.value).toBe('${AZURE_PRINCIPAL_ID}');
    // Comma-separated lists, empty when the azd variable is unset.
    expect(file.parameters.corsAllowedOrigins.value).toBe('${CORS_ALLOWED_ORIGINS=}');
    expect(file.parameters.authAllowedRedirectUrls.value).toBe('${AUTH_ALLOWED_REDIRECT_URLS=}');
    // azd writes SERVICE_<NAME>_IMAGE_NAME after deploying a container service: provisioning keeps it.
    expect(file.parameters.deployedTrainingImage.value).toBe('${SERVICE_TRAINING_IMAGE_NAME=}');
    expect(file.parameters.trainGate.value).toBe('${TRAIN_GATE=on}');
    for (const name of Object.keys(file.parameters)) expect(root.parameters[name], name).toBeDefined();
  });

  it('location is azd location metadata limited to Flex Consumption regions', () => {
    const location = obj(root.parameters.location, 'location');
    expect(obj(obj(location.metadata, 'location metadata').azd, 'azd metadata')).toEqual({
      type: 'location',
    });
    const allowed = arr(location.allowedValues, 'location allowedValues').map((v) => str(v, 'region'));
    expect(allowed.length).toBeGreaterThan(20);
    expect(new Set(allowed).size).toBe(allowed.length);
    for (const region of allowed) expect(region).toMatch(/^[a-z]+[0-9]?$/);
    // The snapshot runs deploy there; a canary (…euap) region is not for general use.
    expect(allowed).toContain('swedencentral');
    expect(allowed.filter((r) => r.endsWith('euap'))).toEqual([]);
  });

  it('tags the training job azd-service-name=training (azure.yaml service, host containerapp)', () => {
    const job = single('Microsoft.App/jobs');
    expect(job.resource.tags).toBe(
      "[union(parameters('tags'), createObject('azd-service-name', parameters('serviceName')))]",
    );
    expect(declaredParameter(job.scope, 'serviceName').defaultValue).toBe('training');
    expect(job.scope.passed.serviceName).toBeUndefined();
  });
});
