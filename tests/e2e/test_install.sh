#!/usr/bin/env bash
# What a user gets besides the build tree: `cmake --install` into a DESTDIR
# puts idx, idx-fcgi (when built), the man page, the web box's files and the
# documentation under the GNUInstallDirs prefixes, and the installed idx runs;
# `idx --version` prints the version of CMakeLists.txt's project(); `idx help
# [COMMAND]` prints exactly what `idx --help` / `idx COMMAND --help` print;
# the man page describes every option of every command's --help (idx-fcgi's
# too) and nothing else, and carries the version; the installed web/serve
# starts the installed idx-fcgi (where nginx, spawn-fcgi and curl are there).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
IDX_BUILD=${IDX_BUILD:-$(dirname "$IDX")}
e2e_tmpdir install
chmod 755 "$T" # as root nginx's workers run as nobody: let them read the index
SERVE=
trap '[ -z "$SERVE" ] || bash "$SERVE" stop --run "$T/run" > /dev/null 2>&1 || true; rm -rf "$T"' EXIT

VERSION=$(sed -n 's/^project(idx VERSION \([0-9.]*\).*/\1/p' "$IDX_SRC/CMakeLists.txt")
check "version read from CMakeLists.txt ($VERSION)" test -n "$VERSION"

# ---- --version
run_rc "$IDX" --version > "$T/version" 2>&1
check "idx --version exits 0" test "$rc" = 0
check "idx --version prints 'idx $VERSION'" test "$(cat "$T/version")" = "idx $VERSION"

# ---- idx help [COMMAND] equals --help
"$IDX" --help > "$T/main.help"
check "idx help = idx --help" cmp -s "$T/main.help" <("$IDX" help)
CMDS=(build query get stats check eval merge similar)
for cmd in "${CMDS[@]}"; do
    "$IDX" "$cmd" --help > "$T/$cmd.help"
    check "idx help $cmd = idx $cmd --help" cmp -s "$T/$cmd.help" <("$IDX" help "$cmd")
    check "idx --help lists $cmd" grep -qE "^  ($cmd |.*  $cmd )" "$T/main.help"
done
run_rc "$IDX" help nosuch > /dev/null 2> "$T/err"
check "idx help nosuch: exit 2" test "$rc" = 2
check "idx help nosuch: one idx: line" grep -qx "idx: help: unknown command 'nosuch' (see idx --help)" "$T/err"
run_rc "$IDX" help build query > /dev/null 2>&1
check "idx help with two commands: exit 2" test "$rc" = 2

# ---- cmake --install into a DESTDIR
D=$T/dest
if ! DESTDIR=$D cmake --install "$IDX_BUILD" --prefix /usr > "$T/install.log" 2>&1; then
    cat "$T/install.log"
    echo "FAIL cmake --install"
    exit 1
fi
echo "ok   cmake --install (DESTDIR, prefix /usr)"
want=(usr/bin/idx usr/share/man/man1/idx.1 usr/share/idx/web/serve
    usr/share/idx/web/nginx.conf.in usr/share/idx/web/static/idx.css
    usr/share/idx/web/static/idx.js usr/share/doc/idx/README.md usr/share/doc/idx/LICENSE)
for f in "$IDX_SRC"/docs/*.md; do want+=("usr/share/doc/idx/$(basename "$f")"); done
FCGI_BUILT=0
if [ -x "$IDX_BUILD/idx-fcgi" ]; then
    FCGI_BUILT=1
    want+=(usr/bin/idx-fcgi)
fi
missing=0
for f in "${want[@]}"; do
    [ -f "$D/$f" ] || { echo "FAIL not installed: $f"; missing=1; fail=1; }
done
[ $missing = 1 ] || echo "ok   ${#want[@]} files installed"
check "installed idx and serve are executable" test -x "$D/usr/bin/idx" -a -x "$D/usr/share/idx/web/serve"
check "installed idx --version" test "$("$D/usr/bin/idx" --version)" = "idx $VERSION"
check "nothing installed outside /usr" test "$(ls "$D")" = usr
check "man page carries the version" grep -q "^\.TH IDX 1 .*\"idx $VERSION\"" "$D/usr/share/man/man1/idx.1"
if command -v man > /dev/null && command -v groff > /dev/null; then
    check "man page renders without warnings" \
        test -z "$(MANWIDTH=80 man --warnings -l "$D/usr/share/man/man1/idx.1" 2>&1 > /dev/null)"
else
    echo "skip man page rendering (man or groff not installed)"
fi

# ---- every option of every --help (its usage and option lines) is described in the man page
# (the tag lines of its .TP paragraphs, in the command's .SS section), and the other way round
[ $FCGI_BUILT = 1 ] && "$IDX_BUILD/idx-fcgi" --help > "$T/idx-fcgi.help"
if python3 - "$D/usr/share/man/man1/idx.1" "$T" "${CMDS[@]}" idx-fcgi <<'EOF'; then
import os, re, sys
man, tdir, cmds = sys.argv[1], sys.argv[2], sys.argv[3:]
OPT = re.compile(r"(?<![\w/-])(--?[A-Za-z][\w-]*)")
UNIVERSAL = {"-h", "--help"}
def options(text):
    return set(OPT.findall(text)) - UNIVERSAL
def plain(line):
    line = line.replace("\\-", "-")
    return re.sub(r"\\f[BIRP]|\\\(..|\\&", "", line)
# The man page's options: the tag line after each .TP, per .SS section.
described, sect, lines = {}, None, open(man, encoding="utf-8").read().split("\n")
for i, line in enumerate(lines):
    if line.startswith(".SH"):
        sect = None
    elif line.startswith(".SS"):
        m = re.match(r'\.SS "(idx(?:\\-fcgi)? ?\w*)', line)
        name = plain(m.group(1)).strip() if m else ""
        sect = "idx-fcgi" if name == "idx-fcgi" else name.split()[-1]
        described[sect] = set()
    elif line == ".TP" and sect and i + 1 < len(lines):
        described[sect] |= options(plain(lines[i + 1]))
ok = True
for cmd in cmds:
    path = os.path.join(tdir, cmd + ".help")
    if not os.path.exists(path):
        print(f"skip {cmd}: not built")
        continue
    # usage lines, and option lines up to their description (3 spaces on): prose may name
    # another command's options
    text = open(path, encoding="utf-8").read().split("\n")
    spec = [l if re.match(r"usage:|\s+idx", l) else re.split(r"\s{3,}", l.strip())[0]
            for l in text if re.match(r"usage:|\s+(idx|-)", l)]
    helped = options("\n".join(spec))
    man_opts = described.get(cmd)
    if man_opts is None:
        print(f"FAIL man page: no section for {cmd}")
        ok = False
        continue
    if helped - man_opts:
        print(f"FAIL {cmd}: in --help, not described in the man page: {sorted(helped - man_opts)}")
    if man_opts - helped:
        print(f"FAIL {cmd}: described in the man page, not in --help: {sorted(man_opts - helped)}")
    if helped == man_opts:
        print(f"ok   {cmd}: the man page and --help have the same {len(helped)} options")
    else:
        ok = False
sys.exit(0 if ok else 1)
EOF
    :
else
    fail=1
fi

# ---- the installed web box finds the installed responder
if [ $FCGI_BUILT = 0 ] || [ "$E2E_MODE" = valgrind ] || ! command -v spawn-fcgi > /dev/null ||
    ! command -v curl > /dev/null || ! { command -v nginx > /dev/null || [ -x /usr/sbin/nginx ]; }; then
    echo "skip installed web/serve (no idx-fcgi, nginx, spawn-fcgi or curl; or under valgrind)"
else
    SERVE=$D/usr/share/idx/web/serve
    e2e_corpus "$T/c" --docs 50
    "$IDX" build -q -o "$T/ix" "$T/c/docs.jsonl"
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if url=$(env -u IDX_FCGI bash "$SERVE" start "$T/ix" --port "$PORT" --run "$T/run" 2> "$T/serve.err"); then
        check "installed serve: /health answers" \
            curl -sf --max-time 10 -o "$T/health" "${url%/search}/health"
        check "installed serve runs $D/usr/bin/idx-fcgi" \
            test "$(readlink -f "/proc/$(cat "$T/run/idx-fcgi.pid")/exe")" = "$(readlink -f "$D/usr/bin/idx-fcgi")"
        check "installed serve stops" bash "$SERVE" stop --run "$T/run"
    else
        cat "$T/serve.err"
        echo "FAIL installed web/serve start"
        fail=1
    fi
fi

e2e_finish
