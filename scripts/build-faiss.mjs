#!/usr/bin/env node
/**
 * Builds faiss-node's native binding against the system libfaiss (Debian's
 * libfaiss-dev). Runs as the project's postinstall; idempotent and fast when
 * the binding is already built and loads.
 *
 * Why: faiss-node's own install script downloads a prebuilt binary or the
 * faiss sources from GitHub, which is unreachable here, so package.json denies
 * it (allowScripts) and this script compiles faiss-node's src/faiss.cc with
 * g++ into the path its loader (`bindings`) expects, with one added method
 * (Index#setParameter, see PATCHES below).
 *
 * Env: FAISS_AUTO_APT=0 stops it from running `apt-get install libfaiss-dev`
 * itself when it runs as root and the library is missing; FAISS_PREFIX
 * (default /usr) is where faiss's include/ and lib/ live.
 * Exit codes: 0 built or already present, 1 a prerequisite is missing or the build failed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

if (process.argv.includes('--help')) {
  process.stdout.write(`Usage: node scripts/build-faiss.mjs [--force]
Compiles faiss-node against the system libfaiss (apt-get install libfaiss-dev libblas-dev liblapack-dev g++).
  --force   rebuild even when a working binding exists
Env: FAISS_AUTO_APT=0 never runs apt-get; FAISS_PREFIX (default /usr) is where faiss's include/ and lib/ are.
`);
  process.exit(0);
}

const require = createRequire(import.meta.url);
const log = (msg) => process.stderr.write(`build-faiss: ${msg}\n`);
const fail = (msg) => {
  process.stderr.write(`\nbuild-faiss: ERROR: ${msg}\n\n`);
  process.exit(1);
};

let pkgDir;
try {
  pkgDir = dirname(require.resolve('faiss-node/package.json'));
} catch {
  fail('faiss-node is not installed; run `npm install` first.');
}
const source = join(pkgDir, 'src', 'faiss.cc');
const target = join(pkgDir, 'build', 'Release', 'faiss-node.node');

/** Loads the binding in a child process (a crash there must not take npm down). */
function bindingWorks() {
  const probe = `const f=require(${JSON.stringify(pkgDir)});const i=f.Index.fromFactory(2,'Flat',0);i.add([1,0]);if(i.search([1,0],1).labels[0]!==0||typeof i.setParameter!=='function')process.exit(2)`;
  return spawnSync(process.execPath, ['-e', probe], { stdio: 'ignore' }).status === 0;
}

const force = process.argv.includes('--force');
if (!force && existsSync(target) && statSync(target).mtimeMs >= statSync(source).mtimeMs && bindingWorks()) {
  log('faiss-node binding already built and working');
  process.exit(0);
}

// ---- prerequisites: libfaiss headers and library, g++, Node's and node-addon-api's headers
// Debian's libfaiss-dev ships a static libfaiss.a (plus headers); it needs BLAS and LAPACK at link time.
const PREFIX = process.env.FAISS_PREFIX || '/usr';
const FAISS_HEADER = join(PREFIX, 'include', 'faiss', 'IndexFlat.h');
const LIB_DIRS = ['lib/x86_64-linux-gnu', 'lib/aarch64-linux-gnu', 'lib'].map((d) => join(PREFIX, d));
const hasLib = (name) => LIB_DIRS.some((d) => existsSync(join(d, `${name}.a`)) || existsSync(join(d, `${name}.so`)));
const hasLibfaiss = () => existsSync(FAISS_HEADER) && hasLib('libfaiss') && hasLib('libblas') && hasLib('liblapack');
const PACKAGES = ['libfaiss-dev', 'libblas-dev', 'liblapack-dev', 'g++'];

if (!hasLibfaiss()) {
  const isRoot = process.getuid?.() === 0;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (isRoot && apt && process.env.FAISS_AUTO_APT !== '0') {
    log('libfaiss-dev is missing: installing it with apt-get (set FAISS_AUTO_APT=0 to stop this)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...PACKAGES], { stdio: ['ignore', 2, 2], env });
    if (install().status !== 0) {
      spawnSync('apt-get', ['update'], { stdio: ['ignore', 2, 2], env });
      install();
    }
  }
  if (!hasLibfaiss()) {
    fail(`the system package libfaiss-dev is missing (or libblas-dev / liblapack-dev, which it links with).
  Install them, then run \`npm install\` again:
    sudo apt-get install -y ${PACKAGES.join(' ')}`);
  }
}
if (spawnSync('g++', ['--version'], { stdio: 'ignore' }).status !== 0) {
  fail('g++ is missing. Install it (sudo apt-get install -y g++), then run `npm install` again.');
}
const nodeInclude = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'].find((d) =>
  existsSync(join(d, 'node_api.h')),
);
if (!nodeInclude) fail("Node's C headers (node_api.h) were not found. Install them (Debian: apt-get install -y libnode-dev or nodejs headers).");
let addonInclude;
try {
  addonInclude = dirname(createRequire(join(pkgDir, 'package.json')).resolve('node-addon-api/package.json'));
} catch {
  fail('node-addon-api (a dependency of faiss-node) is not installed; run `npm install`.');
}

// ---- compatibility: Debian's faiss 1.7.3 names the id type faiss::Index::idx_t, faiss-node expects faiss::idx_t
const buildDir = join(pkgDir, 'build');
mkdirSync(join(buildDir, 'Release'), { recursive: true });
const compat = join(buildDir, 'faiss_compat.h');
const metricPath = join(PREFIX, 'include', 'faiss', 'MetricType.h');
const metricHeader = existsSync(metricPath) ? readFileSync(metricPath, 'utf8') : '';
const hasNamespaceIdx = /using\s+idx_t\s*=|typedef\s+\S+\s+idx_t\s*;/.test(metricHeader);
writeFileSync(
  compat,
  hasNamespaceIdx
    ? '// faiss already defines faiss::idx_t\n'
    : '#pragma once\n#include <faiss/Index.h>\nnamespace faiss { using idx_t = Index::idx_t; }\n',
);

// ---- one addition to faiss-node: Index#setParameter(name, value), through faiss's ParameterSpace,
// so HNSW's efSearch and IVF's nprobe can be set (faiss-node has no way to, and HNSW's default
// efSearch of 16 gives poor recall). A patched copy is compiled; node_modules stays untouched.
const PATCHES = [
  ['#include <faiss/impl/IDSelector.h>', '#include <faiss/impl/IDSelector.h>\n#include <faiss/AutoTune.h>'],
  [
    'protected:\n  std::unique_ptr<faiss::Index> index_;',
    `  Napi::Value setParameter(const Napi::CallbackInfo &info)
  {
    Napi::Env env = info.Env();
    if (info.Length() != 2 || !info[0].IsString() || !info[1].IsNumber())
    {
      Napi::TypeError::New(env, "setParameter(name: string, value: number)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    try
    {
      faiss::ParameterSpace().set_index_parameter(index_.get(), info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Number>().DoubleValue());
    }
    catch (const faiss::FaissException &ex)
    {
      Napi::Error::New(env, ex.what()).ThrowAsJavaScriptException();
    }
    return env.Undefined();
  }

protected:
  std::unique_ptr<faiss::Index> index_;`,
  ],
  ['InstanceMethod("toBuffer", &Index::toBuffer),', 'InstanceMethod("toBuffer", &Index::toBuffer),\n      InstanceMethod("setParameter", &Index::setParameter),'],
];
let patched = readFileSync(source, 'utf8');
for (const [anchor, replacement] of PATCHES) {
  if (!patched.includes(anchor)) fail(`faiss-node's src/faiss.cc has changed (anchor not found: ${JSON.stringify(anchor.slice(0, 60))}); pin faiss-node to the version in package.json`);
  patched = patched.replace(anchor, replacement);
}
const patchedSource = join(buildDir, 'faiss_patched.cc');
writeFileSync(patchedSource, patched);

const tmp = `${target}.tmp-${process.pid}`;
const args = [
  '-std=c++17', '-O2', '-fPIC', '-shared', '-fopenmp', '-fexceptions',
  '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DBUILDING_NODE_EXTENSION',
  '-include', compat,
  '-I', join(PREFIX, 'include'), '-I', nodeInclude, '-I', addonInclude,
  ...LIB_DIRS.map((d) => `-L${d}`),
  patchedSource, '-o', tmp,
  '-lfaiss', '-llapack', '-lblas', '-lgomp',
];
log(`compiling ${source} against the system libfaiss (a few seconds)`);
const started = Date.now();
try {
  execFileSync('g++', args, { stdio: ['ignore', 'inherit', 'inherit'] });
} catch {
  fail(`g++ failed to compile faiss-node (command: g++ ${args.join(' ')})`);
}
renameSync(tmp, target); // atomic: a half-written binding never sits at the loader's path
if (!bindingWorks()) fail(`the binding was built at ${target} but does not load`);
log(`faiss-node binding built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${target}`);
