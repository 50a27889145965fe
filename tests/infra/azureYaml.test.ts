import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * azure.yaml against the rules of azd's published schema (schemas/v1.0/azure.yaml.json in
 * Azure/azure-dev; no npm package ships it, so the rules are restated here, not copied):
 * - root: `name` required, lowercase letters, digits and hyphens, starting and ending alphanumeric;
 *   `services` has at least one entry; `hooks` keys are `pre`/`post` + an azd command.
 * - a service needs `host`; `appservice`/`function`/`springapp`/`staticwebapp` need `project` and
 *   allow no `image`, `docker`, `k8s`, `apiVersion`, `env`; `containerapp` needs exactly one of
 *   `project` and `image`; `remoteBuild` belongs to `function` only.
 * - `docker` takes only path, context, platform, registry, image, tag, buildArgs, network,
 *   remoteBuild (booleans for remoteBuild).
 * - a hook is an object (or a list of them) of shell (sh|pwsh), kind, dir, run, continueOnError,
 *   interactive, windows, posix, secrets, config; with both `windows` and `posix` it holds nothing
 *   else; `shell`, `interactive`, `continueOnError`… need `run`.
 */
type Obj = Record<string, unknown>;
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const doc = parse(readFileSync(path.join(repoRoot, 'azure.yaml'), 'utf8')) as Obj;

const TRADITIONAL_HOSTS = ['appservice', 'function', 'springapp', 'staticwebapp'];
const HOSTS = [...TRADITIONAL_HOSTS, 'containerapp', 'aks', 'ai.endpoint'];
const COMMANDS = [
  'provision',
  'infracreate',
  'infradelete',
  'down',
  'up',
  'package',
  'publish',
  'deploy',
  'restore',
];
const DOCKER_KEYS = [
  'path',
  'context',
  'platform',
  'registry',
  'image',
  'tag',
  'buildArgs',
  'network',
  'remoteBuild',
];
const HOOK_KEYS = [
  'shell',
  'kind',
  'dir',
  'run',
  'continueOnError',
  'interactive',
  'windows',
  'posix',
  'secrets',
  'config',
];

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Problems of one hook (or list of hooks) under `where`; empty when it follows the schema. */
function hookProblems(value: unknown, where: string): string[] {
  if (Array.isArray(value)) return value.flatMap((h, i) => hookProblems(h, `${where}[${i}]`));
  if (!isObj(value)) return [`${where}: not an object`];
  const out: string[] = [];
  for (const key of Object.keys(value)) if (!HOOK_KEYS.includes(key)) out.push(`${where}.${key}: unknown`);
  if ('windows' in value && 'posix' in value) {
    for (const key of Object.keys(value))
      if (key !== 'windows' && key !== 'posix')
        out.push(`${where}.${key}: not allowed beside windows and posix`);
  } else if (
    ['shell', 'kind', 'dir', 'interactive', 'continueOnError', 'secrets', 'config'].some((k) => k in value)
  ) {
    if (typeof value.run !== 'string') out.push(`${where}.run: required`);
  }
  if ('shell' in value && value.shell !== 'sh' && value.shell !== 'pwsh')
    out.push(`${where}.shell: sh or pwsh`);
  for (const key of ['continueOnError', 'interactive'])
    if (key in value && typeof value[key] !== 'boolean') out.push(`${where}.${key}: boolean`);
  for (const os of ['windows', 'posix'] as const)
    if (os in value) out.push(...hookProblems(value[os], `${where}.${os}`));
  return out;
}

/** Problems of a whole azure.yaml document. */
function schemaProblems(root: unknown): string[] {
  if (!isObj(root)) return ['root: not an object'];
  const out: string[] = [];
  if (
    typeof root.name !== 'string' ||
    root.name.length < 2 ||
    !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(root.name)
  )
    out.push('name: required, lowercase letters, digits and hyphens');
  if ('services' in root) {
    if (!isObj(root.services) || Object.keys(root.services).length === 0) out.push('services: at least one');
    else
      for (const [name, service] of Object.entries(root.services)) {
        const at = `services.${name}`;
        if (!isObj(service)) {
          out.push(`${at}: not an object`);
          continue;
        }
        const host = service.host;
        if (typeof host !== 'string') out.push(`${at}.host: required`);
        else if (!HOSTS.includes(host)) out.push(`${at}.host: "${host}" is not a host this project knows`);
        if (typeof host === 'string' && TRADITIONAL_HOSTS.includes(host)) {
          if (typeof service.project !== 'string') out.push(`${at}.project: required for ${host}`);
          for (const key of ['image', 'docker', 'k8s', 'apiVersion', 'env'])
            if (key in service) out.push(`${at}.${key}: not allowed for ${host}`);
        }
        if (host === 'containerapp' && 'project' in service === 'image' in service)
          out.push(`${at}: containerapp needs exactly one of project and image`);
        if ('remoteBuild' in service && host !== 'function')
          out.push(`${at}.remoteBuild: function hosts only`);
        if ('remoteBuild' in service && typeof service.remoteBuild !== 'boolean')
          out.push(`${at}.remoteBuild: boolean`);
        if ('docker' in service) {
          if (!isObj(service.docker)) out.push(`${at}.docker: not an object`);
          else {
            for (const key of Object.keys(service.docker))
              if (!DOCKER_KEYS.includes(key)) out.push(`${at}.docker.${key}: unknown`);
            if ('remoteBuild' in service.docker && typeof service.docker.remoteBuild !== 'boolean')
              out.push(`${at}.docker.remoteBuild: boolean`);
          }
        }
      }
  }
  if ('hooks' in root) {
    if (!isObj(root.hooks)) out.push('hooks: not an object');
    else
      for (const [event, hook] of Object.entries(root.hooks)) {
        const m = /^(pre|post)(.+)$/.exec(event);
        if (!m || !COMMANDS.includes(m[2])) out.push(`hooks.${event}: not an azd command event`);
        out.push(...hookProblems(hook, `hooks.${event}`));
      }
  }
  return out;
}

describe('azure.yaml follows the azd schema', () => {
  it('has no schema problems', () => {
    expect(schemaProblems(doc)).toEqual([]);
  });

  it('the checks can fail: each broken copy is reported', () => {
    const broken = (change: (d: Obj) => void): string[] => {
      const copy = structuredClone(doc);
      change(copy);
      return schemaProblems(copy);
    };
    const services = (d: Obj): Obj => d.services as Obj;
    expect(broken((d) => delete d.name)).toEqual(['name: required, lowercase letters, digits and hyphens']);
    expect(broken((d) => (d.name = 'Tracklist_AI'))).toHaveLength(1);
    expect(broken((d) => delete (services(d).training as Obj).host)).toEqual([
      'services.training.host: required',
    ]);
    expect(broken((d) => ((services(d).api as Obj).host = 'vm'))).toEqual([
      'services.api.host: "vm" is not a host this project knows',
      'services.api.remoteBuild: function hosts only',
    ]);
    expect(broken((d) => ((services(d).api as Obj).docker = { path: 'x' }))).toEqual([
      'services.api.docker: not allowed for function',
    ]);
    expect(broken((d) => ((services(d).training as Obj).image = 'x'))).toHaveLength(1);
    expect(broken((d) => ((services(d).training as Obj).remoteBuild = true))).toHaveLength(1);
    expect(broken((d) => (((services(d).training as Obj).docker as Obj).remoteBuild = 'yes'))).toHaveLength(
      1,
    );
    expect(broken((d) => (((services(d).training as Obj).docker as Obj).file = 'x'))).toHaveLength(1);
    expect(broken((d) => ((d.hooks as Obj).afterup = { run: 'x' }))).toHaveLength(1);
    expect(broken((d) => (((d.hooks as Obj).postdeploy as Obj).run = 'x'))).toEqual([
      'hooks.postdeploy.run: not allowed beside windows and posix',
    ]);
    expect(hookProblems({ shell: 'bash' }, 'h')).toEqual(['h.run: required', 'h.shell: sh or pwsh']);
  });
});

describe('azure.yaml deploys the whole system', () => {
  const services = doc.services as Obj;

  it('provisions infra/main.bicep', () => {
    expect(doc.infra).toEqual({ provider: 'bicep', path: 'infra', module: 'main' });
    expect(existsSync(path.join(repoRoot, 'infra', 'main.bicep'))).toBe(true);
  });

  it('api: dist/api as `npm run build` writes it (API and web app), without a remote build', () => {
    expect(services.api).toEqual({
      project: '.',
      language: 'ts',
      host: 'function',
      dist: 'dist/api',
      remoteBuild: false,
    });
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.build).toBe('node scripts/buildFunctions.ts');
  });

  it('training: the job image, built in the registry from training/Dockerfile with the repository as context', () => {
    const training = services.training as Obj;
    expect(training).toMatchObject({ project: './training', language: 'docker', host: 'containerapp' });
    const docker = training.docker as Obj;
    expect(docker.remoteBuild).toBe(true);
    const serviceDir = path.join(repoRoot, String(training.project));
    expect(existsSync(path.join(serviceDir, String(docker.path)))).toBe(true);
    expect(path.resolve(serviceDir, String(docker.context))).toBe(path.resolve(repoRoot));
    // The Dockerfile copies the workspace manifests from the context root.
    const dockerfile = readFileSync(path.join(serviceDir, String(docker.path)), 'utf8');
    expect(dockerfile).toMatch(/^COPY package\.json package-lock\.json \.\/$/m);
    expect(dockerfile).toMatch(/^COPY training\/package\.json training\/$/m);
  });

  it('postdeploy runs the first-training hook with the same command on posix and windows', () => {
    const hook = (doc.hooks as Obj).postdeploy as Obj;
    const posix = hook.posix as Obj;
    const windows = hook.windows as Obj;
    expect(posix.shell).toBe('sh');
    expect(windows.shell).toBe('pwsh');
    expect(posix.run).toBe('npx --no node scripts/hooks/firstTraining.ts');
    expect(windows.run).toBe(posix.run);
    expect(existsSync(path.join(repoRoot, 'scripts', 'hooks', 'firstTraining.ts'))).toBe(true);
  });
});
