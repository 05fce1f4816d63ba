#!/usr/bin/env bash
# Runs the Dockerfile's build steps on this machine, without a Docker engine, and checks the
# result runs. It reads the Dockerfile (FROM, WORKDIR, ENV, COPY, RUN, USER, HEALTHCHECK,
# ENTRYPOINT, CMD), so the steps stay the image's steps. See --help.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: npm run docker:steps [-- --keep]   (or: bash scripts/docker-steps.sh [--keep])

Exercises the Dockerfile without Docker, in a temporary directory:
  1. build context: the repo's files minus .dockerignore (Docker's pattern rules)
  2. each stage: WORKDIR and ENV as written; COPY from the context or an earlier stage;
     RUN runs here (npm ci, the faiss build, npm run build, npm prune) except apt-get, whose
     packages must already be installed on this machine (the same Debian release as the image)
  3. the runtime stage's tree (only what it COPYs) is then checked:
     - USER is not root; the ENTRYPOINT's script exists in the tree
     - every native addon's shared libraries resolve (ldd) and come from packages the
       runtime stage installs or the slim base image has (libc6, libgcc-s1, libstdc++6)
     - ENTRYPOINT + CMD, run as an unprivileged user with the image's ENV, answer piped
       input in the terminal chat
     - when the build serves /healthz: the HTTP mode (a fake Slack token) passes the
       HEALTHCHECK command and stops with exit code 0 on the STOPSIGNAL
Takes about 35 s on a 2-core machine (36 s measured 2026-12-02; 53-67 s while other work
shared the cores): npm ci, the faiss build, tsc, then the checks. Needs network access for npm ci.
  --keep   keep the temporary directory (its path is printed)
Exit codes: 0 all steps passed, 1 a step failed (the message says which), 2 bad arguments.
EOF
}

KEEP=0
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
    --keep) KEEP=1 ;;
    *) echo "docker-steps: unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STARTED=$SECONDS
WORK="$(mktemp -d -t docker-steps.XXXXXX)"
chmod 755 "$WORK" # the runtime checks run as an unprivileged user
BG_PID="" FAKE_PID=""

cleanup() {
  local pid
  for pid in "$BG_PID" "$FAKE_PID"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  if [[ "$KEEP" == 1 ]]; then echo "docker-steps: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }
ok() { printf '    ok: %s\n' "$*"; }
fail() {
  printf '\ndocker-steps: FAIL: %s\n' "$*" >&2
  exit 1
}

# ---- the Dockerfile and .dockerignore, read by Node (no dependencies) --------------------------
cat >"$WORK/plan.mjs" <<'NODE'
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
const [cmd, root, out] = process.argv.slice(2);
const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** .dockerignore: last matching pattern wins; a pattern also matches everything under a matching directory. */
function ignoreRules(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => {
    const negate = l.startsWith('!');
    const pat = (negate ? l.slice(1) : l).trim().replace(/^\/+/, '').replace(/\/+$/, '');
    const re = pat.split('/').map((seg) => seg === '**' ? '\u0000' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'));
    const source = re.join('/').replace(/\u0000\//g, '(?:.*/)?').replace(/\/\u0000$/, '(?:/.*)?').replace(/\u0000/g, '.*');
    return { negate, pat, re: new RegExp(`^${source}$`) };
  });
}
function ignored(rules, path) {
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let out = false;
  for (const r of rules) if (candidates.some((c) => r.re.test(c))) out = !r.negate;
  return out;
}

if (cmd === 'context') {
  const rules = ignoreRules(join(root, '.dockerignore'));
  const exceptions = rules.filter((r) => r.negate).map((r) => r.pat.split(/[*?[]/)[0]);
  let files = 0, bytes = 0;
  const walk = (rel) => {
    for (const name of readdirSync(join(root, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, path));
      const skip = ignored(rules, path);
      if (st.isDirectory()) {
        if (!skip || exceptions.some((e) => e.startsWith(`${path}/`) || path.startsWith(e))) walk(path);
      } else if (!skip) {
        mkdirSync(dirname(join(out, path)), { recursive: true });
        cpSync(join(root, path), join(out, path), { preserveTimestamps: true, verbatimSymlinks: true });
        files += 1;
        bytes += st.size;
      }
    }
  };
  walk('');
  console.log(`${files} files, ${(bytes / 1e6).toFixed(1)} MB`);
} else if (cmd === 'plan') {
  // Emits the Dockerfile as shell function calls, one instruction per line, every word quoted.
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8').replace(/\\\r?\n(\s*#.*\r?\n)*/g, ' ');
  const lines = [];
  const shellArgs = (s) => (s.trim().startsWith('[') ? JSON.parse(s) : ['sh', '-c', s.trim()]);
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [, op, rest] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    const args = rest.trim().split(/\s+/);
    switch (op.toUpperCase()) {
      case 'FROM': lines.push(['stage', args[2] ?? 'stage', args[0]]); break;
      case 'WORKDIR': case 'USER': case 'EXPOSE': case 'STOPSIGNAL': lines.push([op.toLowerCase(), ...args]); break;
      case 'ENV': {
        const pairs = /^\S+=/.test(rest) ? rest.match(/\S+=("[^"]*"|\S*)/g).map((p) => p.split(/=(.*)/s).slice(0, 2)) : [rest.split(/\s+(.*)/s).slice(0, 2)];
        for (const [k, v] of pairs) lines.push(['env', k, v.replace(/^"(.*)"$/, '$1')]);
        break;
      }
      case 'COPY': {
        const from = args.find((a) => a.startsWith('--from='))?.slice(7) ?? '';
        const paths = rest.trim().startsWith('[') ? JSON.parse(rest) : args.filter((a) => !a.startsWith('--'));
        if (paths.some((p) => /[*?[]/.test(p))) lines.push(['unsupported', `COPY with a glob: ${line}`]);
        else lines.push(['copy', from, ...paths]);
        break;
      }
      case 'RUN': {
        const parts = rest.split('&&').map((p) => p.trim());
        if (parts.some((p) => p.startsWith('apt-get'))) {
          if (!parts.every((p) => p.startsWith('apt-get') || p.startsWith('rm -rf /var/lib/apt/lists'))) lines.push(['unsupported', `RUN mixing apt-get and other commands: ${line}`]);
          const install = parts.find((p) => /^apt-get\s+install/.test(p)) ?? '';
          lines.push(['apt', ...install.split(/\s+/).slice(2).filter((w) => !w.startsWith('-'))]);
        } else lines.push(['run', rest]);
        break;
      }
      case 'HEALTHCHECK': { const m = /\bCMD\s+(.*)$/.exec(rest); lines.push(['healthcheck', ...shellArgs(m ? m[1] : 'false')]); break; }
      case 'ENTRYPOINT': case 'CMD': lines.push([op.toLowerCase(), ...shellArgs(rest)]); break;
      default: lines.push(['unsupported', line]);
    }
  }
  console.log(lines.map(([op, ...a]) => [`df_${op}`, ...a].map(q).join(' ')).join('\n'));
}
NODE

# ---- the instructions, as the plan calls them -----------------------------------------------------
STAGE="" STAGE_ROOT="" WD="/" USER_NAME="" RUNTIME_PKGS=() STAGE_ENV=() HEALTH=() ENTRY=() CMD_ARGS=()
ALL_STAGES=()

df_stage() { # name image
  STAGE="$1" STAGE_ROOT="$WORK/stages/$1" WD="/" USER_NAME="" STAGE_ENV=() RUNTIME_PKGS=() HEALTH=() ENTRY=() CMD_ARGS=()
  ALL_STAGES+=("$1")
  mkdir -p "$STAGE_ROOT"
  step "stage $1 (FROM $2): $STAGE_ROOT"
}
df_workdir() { [[ "$1" == /* ]] && WD="$1" || WD="$WD/$1"; mkdir -p "$STAGE_ROOT$WD"; }
df_env() { STAGE_ENV+=("$1=$2"); }
df_user() { USER_NAME="$1"; }
df_expose() { :; }
df_stopsignal() { STOP_SIGNAL="$1"; }
df_healthcheck() { HEALTH=("$@"); }
df_entrypoint() { ENTRY=("$@"); }
df_cmd() { CMD_ARGS=("$@"); }
df_unsupported() { fail "docker-steps cannot emulate this Dockerfile instruction (keep the Dockerfile simple or extend this script): $1"; }

df_apt() { # packages: this machine must have them (the image's apt-get installs them)
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] || fail "stage $STAGE apt-installs ${missing[*]}, not installed here: apt-get install -y ${missing[*]}"
  RUNTIME_PKGS=("$@")
  ok "apt packages present here: $*"
}

df_copy() { # from-stage-or-empty src... dest
  local from="$1"; shift
  local dest="${!#}" srcs=("${@:1:$#-1}") base src target
  if [[ -n "$from" ]]; then base="$WORK/stages/$from"; else base="$WORK/context"; fi
  [[ "$dest" == /* ]] && target="$STAGE_ROOT$dest" || target="$STAGE_ROOT$WD/$dest"
  for src in "${srcs[@]}"; do
    local path="$base/${src#/}"
    [[ -n "$from" || "$src" != /* ]] || fail "COPY $src: an absolute path in the build context"
    [[ -e "$path" ]] || fail "COPY ${from:+--from=$from }$src: not found ${from:+in stage $from}${from:-in the build context (missing, or excluded by .dockerignore?)}"
    if [[ -d "$path" ]]; then
      mkdir -p "$target" && cp -a "$path/." "$target/"
    elif [[ "$dest" == */ || ${#srcs[@]} -gt 1 ]]; then
      mkdir -p "$target" && cp -a "$path" "$target/"
    else
      mkdir -p "$(dirname "$target")" && cp -a "$path" "$target"
    fi
  done
  ok "COPY ${from:+--from=$from }${srcs[*]} -> $dest"
}

df_run() { # a RUN line, in the stage's WORKDIR with its ENV
  printf '    RUN %s\n' "$1"
  local t=$SECONDS
  if ! (cd "$STAGE_ROOT$WD" && /usr/bin/env "${STAGE_ENV[@]}" sh -c "$1") 2>&1 | sed 's/^/      | /' | tail -n 15; then
    fail "stage $STAGE: RUN failed (output above): $1"
  fi
  ok "RUN done in $((SECONDS - t)) s"
}

# ---- 1. build context ------------------------------------------------------------------------------
step "build context: $ROOT minus .dockerignore"
mkdir -p "$WORK/context"
ok "$(node "$WORK/plan.mjs" context "$ROOT" "$WORK/context")"

# ---- 2. the stages ---------------------------------------------------------------------------------
node "$WORK/plan.mjs" plan "$ROOT" >"$WORK/plan.sh" || fail "could not read the Dockerfile"
# shellcheck disable=SC1091
source "$WORK/plan.sh"
[[ ${#ALL_STAGES[@]} -ge 2 ]] || fail "the Dockerfile has ${#ALL_STAGES[@]} stage(s); expected a builder and a runtime stage"
APP="$STAGE_ROOT$WD" # the last stage is the image

# ---- 3. the runtime tree ---------------------------------------------------------------------------
step "runtime tree ($STAGE): $APP"
ok "contents: $(cd "$APP" && ls -A | tr '\n' ' ')($(du -sh "$STAGE_ROOT" | cut -f1))"
[[ -n "$USER_NAME" && "$USER_NAME" != root && "$USER_NAME" != 0 && "$USER_NAME" != 0:* ]] || fail "the runtime stage runs as root (USER is '${USER_NAME:-unset}')"
ok "USER $USER_NAME"
[[ ${#ENTRY[@]} -ge 2 && -f "$APP/${ENTRY[1]}" ]] || fail "ENTRYPOINT ${ENTRY[*]}: ${ENTRY[1]:-(no script)} is not in the runtime tree"
ok "ENTRYPOINT ${ENTRY[*]} (the file exists); CMD ${CMD_ARGS[*]}"

step "native addons: shared libraries resolve and come from the runtime stage's packages"
closure() { # the packages and everything they depend on (installed here)
  local seen=" " queue=("$@") p deps
  while [[ ${#queue[@]} -gt 0 ]]; do
    p="${queue[0]}"; queue=("${queue[@]:1}")
    [[ "$seen" == *" $p "* ]] && continue
    seen+="$p "
    deps="$(dpkg-query -W -f='${Depends}, ${Pre-Depends}' "$p" 2>/dev/null | tr ',|' '\n\n' | sed -E 's/\(.*\)//; s/:any//; s/ //g' | grep -v '^$' || true)"
    [[ -n "$deps" ]] && mapfile -t -O "${#queue[@]}" queue <<<"$deps"
  done
  echo "$seen"
}
ALLOWED="$(closure libc6 libgcc-s1 libstdc++6 "${RUNTIME_PKGS[@]}")"
mapfile -t ADDONS < <(find "$APP" -name '*.node' -type f)
[[ ${#ADDONS[@]} -gt 0 ]] || fail "no native addon in the runtime tree (the faiss binding is missing: did npm prune remove it?)"
for addon in "${ADDONS[@]}"; do
  missing="$(ldd "$addon" | grep 'not found' || true)"
  [[ -z "$missing" ]] || fail "${addon#"$APP"/} needs libraries that are not found: $missing"
  while read -r lib; do
    real="$(readlink -f "$lib")"
    pkg="$(dpkg -S "$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null || true)"
    pkg="${pkg%%:*}"
    [[ -n "$pkg" ]] || fail "${addon#"$APP"/} links $lib, which no Debian package owns"
    [[ "$ALLOWED" == *" $pkg "* ]] || fail "${addon#"$APP"/} links $lib (package $pkg), which the runtime stage does not install: add $pkg to its apt-get install"
  done < <(ldd "$addon" | awk '/=> \//{print $3}')
  ok "${addon#"$APP"/}: $(ldd "$addon" | awk '/=> \//{print $1}' | tr '\n' ' ')"
done

# Run as the image would: its WORKDIR, its ENV only, an unprivileged user (files owned by root).
AS_USER=()
if [[ "$(id -u)" == 0 ]]; then AS_USER=(setpriv --reuid=65534 --regid=65534 --clear-groups); fi
in_image() { (cd "$APP" && exec "${AS_USER[@]}" /usr/bin/env -i PATH="$PATH" HOME=/tmp "${STAGE_ENV[@]}" "$@"); }
[[ "$(id -u)" == 0 ]] && ok "runs below as uid 65534 (nobody), with only the image's ENV: ${STAGE_ENV[*]}"

step "terminal chat: printf 'hello\\n' | ${ENTRY[*]} ${CMD_ARGS[*]}"
set +e
reply="$(printf 'hello\n' | in_image timeout 60 "${ENTRY[@]}" "${CMD_ARGS[@]}" 2>"$WORK/chat.err")"
status=$?
set -e
[[ $status -eq 0 ]] || fail "the app exited with $status; stderr: $(tail -n 20 "$WORK/chat.err")"
[[ -n "$reply" ]] || fail "no reply on stdout; stderr: $(tail -n 20 "$WORK/chat.err")"
ok "exit 0; $(head -n 1 "$WORK/chat.err")"
ok "reply: $(head -c 160 <<<"$reply")..."

step "HTTP mode: HEALTHCHECK and ${STOP_SIGNAL:-SIGTERM}"
if ! grep -rqs '/healthz' "$APP/dist/src" "$APP/dist/adapters"; then
  ok "skipped: the app serves no /healthz yet"
else
  free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
  port="$(free_port)"
  # A fake Slack token, and a stand-in Web API answering ok to every call (Bolt calls auth.test at start).
  slack_port="$(free_port)"
  node -e "require('http').createServer((q,r)=>{q.resume();r.setHeader('content-type','application/json');r.end(JSON.stringify({ok:true,user_id:'UBOT',bot_id:'BBOT',team_id:'T1',url:'https://t.slack.com/'}))}).listen($slack_port,'127.0.0.1')" &
  FAKE_PID=$!
  STAGE_ENV+=("PORT=$port" SLACK_BOT_TOKEN=xoxb-test SLACK_SIGNING_SECRET=x "SLACK_API_URL=http://127.0.0.1:$slack_port/api/")
  (cd "$APP" && exec "${AS_USER[@]}" /usr/bin/env -i PATH="$PATH" HOME=/tmp "${STAGE_ENV[@]}" "${ENTRY[@]}" "${CMD_ARGS[@]}") </dev/null >"$WORK/http.out" 2>&1 &
  BG_PID=$!
  healthy=0
  for _ in $(seq 60); do
    if in_image "${HEALTH[@]}" >/dev/null 2>&1; then healthy=1; break; fi
    kill -0 "$BG_PID" 2>/dev/null || break
    sleep 0.5
  done
  [[ $healthy == 1 ]] || fail "the HEALTHCHECK did not pass within 30 s on port $port; output: $(tail -n 20 "$WORK/http.out")"
  ok "HEALTHCHECK passed (${HEALTH[*]:0:2} ...) on port $port"
  kill -"${STOP_SIGNAL:-SIGTERM}" "$BG_PID"
  set +e
  for _ in $(seq 40); do kill -0 "$BG_PID" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$BG_PID" 2>/dev/null && fail "still running 20 s after ${STOP_SIGNAL:-SIGTERM}"
  wait "$BG_PID"
  status=$?
  set -e
  BG_PID=""
  [[ $status -eq 0 ]] || fail "exit code $status after ${STOP_SIGNAL:-SIGTERM}; output: $(tail -n 20 "$WORK/http.out")"
  ok "stopped on ${STOP_SIGNAL:-SIGTERM} with exit code 0"
  kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null || true
  FAKE_PID=""
  if in_image "${HEALTH[@]}" >/dev/null 2>&1; then fail "the HEALTHCHECK passes with nothing listening on port $port"; fi
  ok "the HEALTHCHECK fails once the app is down"
fi

printf '\ndocker-steps: all steps passed in %d s (the image itself was not built: no Docker engine)\n' "$((SECONDS - STARTED))"
