/**
 * The Dockerfile, .dockerignore and docker-compose.yml stay in step with the project: paths it
 * copies exist (and survive .dockerignore), the runtime stage is Node 24 slim, non-root, starts
 * the compiled entry of `npm start`, exposes the default PORT and checks /healthz; compose runs
 * Redis with AOF on a volume. Static and fast; `npm run docker:steps` runs the steps themselves.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../helpers.js';

interface Instruction {
  op: string;
  flags: Record<string, string>;
  args: string[];
  /** JSON (exec) form, when the instruction used it. */
  exec?: string[];
  raw: string;
}
interface Stage {
  from: string;
  name?: string;
  steps: Instruction[];
}

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const joined = text.replace(/\\\r?\n(\s*#.*\r?\n)*/g, ' ');
  for (const line of joined.split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`unparsed Dockerfile line: ${line}`);
    const op = m[1]!.toUpperCase();
    let rest = m[2]!;
    const flags: Record<string, string> = {};
    for (let f = /^--([\w-]+)=(\S+)\s+/.exec(rest); f; f = /^--([\w-]+)=(\S+)\s+/.exec(rest)) {
      flags[f[1]!] = f[2]!;
      rest = rest.slice(f[0].length);
    }
    const execPart = op === 'HEALTHCHECK' ? /\bCMD\s+(\[.*\])$/.exec(rest)?.[1] : rest.startsWith('[') ? rest : undefined;
    const step: Instruction = { op, flags, args: rest.split(/\s+/), raw: line, ...(execPart ? { exec: JSON.parse(execPart) as string[] } : {}) };
    if (op === 'FROM') stages.push({ from: step.args[0]!, ...(step.args[1]?.toUpperCase() === 'AS' ? { name: step.args[2] } : {}), steps: [] });
    else if (!stages.length) throw new Error(`${op} before FROM`);
    else stages.at(-1)!.steps.push(step);
  }
  return stages;
}

/** Docker's .dockerignore rules: the last matching pattern wins; a match on a directory covers its contents. */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      const source = pattern
        .split('/')
        .map((seg) => (seg === '**' ? '\0' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/')
        .replace(/\0\//g, '(?:.*/)?')
        .replace(/\/\0$/, '(?:/.*)?')
        .replace(/\0/g, '.*');
      return { negate, re: new RegExp(`^${source}$`) };
    });
  return (path) => {
    const parts = path.replace(/\/+$/, '').split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) ignored = !r.negate;
    return ignored;
  };
}

const stages = parseDockerfile(read('Dockerfile'));
const builder = stages[0]!;
const runtime = stages.at(-1)!;
const ignored = dockerignore(read('.dockerignore'));
const pkg = JSON.parse(read('package.json')) as { type?: string; scripts: Record<string, string> };
const of = (stage: Stage, op: string) => stage.steps.filter((s) => s.op === op);
const copies = (stage: Stage) =>
  of(stage, 'COPY').map((s) => {
    const paths = s.exec ?? s.args;
    return { from: s.flags.from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
  });
const norm = (p: string) => p.replace(/^\/app\//, '').replace(/^\.\//, '').replace(/\/+$/, '');
const workdir = (stage: Stage) => of(stage, 'WORKDIR').at(-1)?.args[0];

describe('Dockerfile', () => {
  it('has a builder stage and a Node 24 LTS slim runtime stage', () => {
    expect(stages).toHaveLength(2);
    expect(builder.name).toBe('builder');
    expect(runtime.from).toMatch(/^node:24-[a-z]+-slim$/);
    expect(workdir(builder)).toBe('/app');
    expect(workdir(runtime)).toBe('/app');
  });

  it('copies from the build context only paths that exist and that .dockerignore keeps', () => {
    const sources = stages.flatMap((s) => copies(s).filter((c) => !c.from).flatMap((c) => c.sources));
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect(existsSync(join(ROOT, src)), `COPY ${src}: not in the repo`).toBe(true);
      expect(ignored(src), `COPY ${src}: excluded by .dockerignore`).toBe(false);
    }
  });

  it('builds with the lock file, the project postinstall (the faiss binding) and npm run build, then prunes dev dependencies', () => {
    const runs = of(builder, 'RUN').map((s) => s.raw);
    const at = (re: RegExp) => runs.findIndex((r) => re.test(r));
    expect(at(/npm ci\b/)).toBeGreaterThanOrEqual(0);
    expect(pkg.scripts.postinstall).toBe('node scripts/build-faiss.mjs');
    expect(at(/npm run postinstall|npm ci(?![^&]*--ignore-scripts)/)).toBeGreaterThanOrEqual(0);
    expect(at(/npm run build/)).toBeGreaterThan(at(/npm ci\b/));
    expect(at(/npm prune --omit=dev/)).toBeGreaterThanOrEqual(at(/npm run build/));
    expect(runs.join('\n')).toMatch(/apt-get install[^\n]*libfaiss-dev/);
    // what tsc compiles (tsconfig.build.json) is in the builder before the build
    const include = (JSON.parse(read('tsconfig.build.json')) as { include: string[] }).include;
    const copied = copies(builder).flatMap((c) => c.sources.map(norm));
    for (const dir of include) expect(copied, `tsconfig.build.json includes ${dir}`).toContain(dir);
    for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build-faiss.mjs']) expect(copied).toContain(file);
  });

  it('gives the runtime exactly what runs: package.json, production node_modules, dist/, config/, data/', () => {
    const dests = copies(runtime).map((c) => ({ ...c, dest: norm(c.dest), sources: c.sources.map(norm) }));
    expect(dests.map((c) => c.dest).sort()).toEqual(['config', 'data', 'dist', 'node_modules', 'package.json']);
    for (const c of dests.filter((d) => ['package.json', 'node_modules', 'dist'].includes(d.dest))) {
      expect(c.from, `${c.dest} comes from the builder`).toBe('builder');
      expect(c.sources).toEqual([c.dest]);
    }
    expect(pkg.type, 'dist/ is ESM through package.json').toBe('module');
    // config/ and data/ are read relative to WORKDIR (CONFIG_DIR, DATA_DIR default to them)
    const settings = read('src/config/settings.ts');
    expect(settings).toMatch(/CONFIG_DIR:[^\n]*default\('config'\)/);
    expect(settings).toMatch(/DATA_DIR:[^\n]*default\('data'\)/);
    expect(existsSync(join(ROOT, 'data/embeddings/trt_rag_index.faiss'))).toBe(true);
    const apt = of(runtime, 'RUN').map((s) => s.raw).join('\n');
    for (const lib of ['liblapack3', 'libblas3', 'libgomp1', 'libgfortran5']) expect(apt).toContain(lib);
    expect(apt).toMatch(/--no-install-recommends/);
    expect(apt).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
  });

  it('runs as a non-root user', () => {
    const user = of(runtime, 'USER').at(-1)?.args[0];
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it('starts the compiled form of `npm start` with the role as CMD arguments', () => {
    const entry = of(runtime, 'ENTRYPOINT').at(-1)?.exec;
    expect(entry?.[0]).toBe('node');
    const script = entry?.[1] ?? '';
    expect(script).toMatch(/^dist\/.+\.js$/);
    const source = script.replace(/^dist\//, '').replace(/\.js$/, '.ts');
    expect(existsSync(join(ROOT, source)), `${script} is compiled from ${source}`).toBe(true);
    expect(pkg.scripts.start).toBe(`tsx ${source}`);
    expect(read('tsconfig.build.json')).toContain(source.split('/')[0]!);
    expect(of(runtime, 'CMD').at(-1)?.exec).toEqual(['--role', 'all']);
    expect(of(runtime, 'STOPSIGNAL').at(-1)?.args[0]).toBe('SIGTERM');
  });

  it('exposes the default PORT and health-checks /healthz on it with Node', () => {
    const port = /PORT:\s*int\((\d[\d_]*)/.exec(read('src/config/settings.ts'))?.[1]?.replace(/_/g, '');
    expect(port).toBe('3000');
    expect(of(runtime, 'EXPOSE').flatMap((s) => s.args)).toEqual([port]);
    expect(of(runtime, 'ENV').map((s) => s.raw).join(' ')).toMatch(new RegExp(`\\bPORT=${port}\\b`));
    expect(of(runtime, 'ENV').map((s) => s.raw).join(' ')).toMatch(/\bNODE_ENV=production\b/);
    const health = of(runtime, 'HEALTHCHECK');
    expect(health).toHaveLength(1);
    const cmd = health[0]!.exec ?? [];
    expect(cmd.slice(0, 2)).toEqual(['node', '-e']);
    expect(cmd[2]).toContain("'http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz'");
  });
});

describe('.dockerignore', () => {
  it('keeps out installed and built files, secrets, VCS data and test output', () => {
    for (const path of ['node_modules', 'node_modules/zod/package.json', 'adapters/node_modules/x', 'dist', 'dist/adapters/main.js', '.git', '.git/HEAD', '.env', '.env.local', 'config/.env', 'coverage', 'npm-debug.log', 'test/unit/x.test.ts']) {
      expect(ignored(path), path).toBe(true);
    }
  });
  it('keeps what the build needs', () => {
    for (const path of ['package.json', 'package-lock.json', 'src/index.ts', 'adapters/main.ts', 'scripts/build-faiss.mjs', 'test/fakes/slack.ts', 'config/system', 'data/embeddings/trt_rag_index.faiss']) {
      expect(ignored(path), path).toBe(false);
    }
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml')) as {
    services: Record<string, { build?: unknown; image?: string; command?: string[]; environment?: Record<string, string>; ports?: string[]; depends_on?: Record<string, { condition: string }>; volumes?: string[]; healthcheck?: { test: string[] }; restart?: string }>;
    volumes?: Record<string, unknown>;
  };
  const { bot, redis } = compose.services;

  it('runs Redis with AOF on a named volume, health-checked', () => {
    expect(redis?.image).toMatch(/^redis:7/);
    expect(redis?.command?.join(' ')).toMatch(/--appendonly yes/);
    expect(redis?.command?.join(' ')).toMatch(/--appendfsync everysec/);
    const volume = redis?.volumes?.find((v) => v.endsWith(':/data'))?.split(':')[0];
    expect(volume).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(volume);
    expect(redis?.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('builds the bot from this Dockerfile and points it at the redis service once healthy', () => {
    expect(bot?.build).toBe('.');
    expect(bot?.environment?.REDIS_URL).toBe('redis://redis:6379');
    expect(bot?.environment?.PORT).toBe('3000');
    expect(bot?.ports?.some((p) => p.endsWith(':3000'))).toBe(true);
    expect(bot?.depends_on?.redis?.condition).toBe('service_healthy');
    expect(bot?.restart).toBe('unless-stopped');
    expect(bot?.command).toEqual(['--role', 'all']);
  });
});

describe('scripts/docker-steps.sh', () => {
  it('is the npm docker:steps script', () => {
    expect(pkg.scripts['docker:steps']).toBe('bash scripts/docker-steps.sh');
    expect(existsSync(join(ROOT, 'scripts/docker-steps.sh'))).toBe(true);
  });
});
