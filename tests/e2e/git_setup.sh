#!/bin/sh
# pvdev init / git-setup in real git repositories: .gitattributes, the
# local config, the hooks; idempotence, --uninstall, foreign hooks,
# core.hooksPath, linked worktrees, and the warning of a clone without the
# drivers.
set -eu
. "$(dirname "$0")/../lib.sh"

mkdir "$T/r" && cd "$T/r"
git init -q -b main .
printf '*.csv text\n' > .gitattributes
cp .git/config "$T/config.before"
pvdev init > init.out
cat > init.want <<OUT
initialized PicoVolt workspace in $T/r/.pv (git work tree $T/r/)
.gitattributes: added '.pv/tables/** merge=pv diff=pv' (commit it)
config: merge.pv.driver = pvdev merge-driver %O %A %B %L %P, diff.pv.textconv = pvdev textconv --v1
hooks: installed $T/r/.git/hooks/pre-commit
hooks: installed $T/r/.git/hooks/pre-merge-commit
OUT
same init.want init.out "pvdev init output"
printf '*.csv text\n.pv/tables/** merge=pv diff=pv\n' > attr.want
same attr.want .gitattributes ".gitattributes after init"
[ "$(git config merge.pv.driver)" = "pvdev merge-driver %O %A %B %L %P" ] || fail "merge.pv.driver"
[ "$(git config diff.pv.textconv)" = "pvdev textconv --v1" ] || fail "diff.pv.textconv"
[ "$(git config diff.pv.cachetextconv)" = "true" ] || fail "diff.pv.cachetextconv"
[ -n "$(git config merge.pv.name)" ] || fail "merge.pv.name"
same "$PV_TOP/hooks/pre-commit" .git/hooks/pre-commit "installed hook = hooks/pre-commit"
[ -x .git/hooks/pre-commit ] || fail "the hook is not executable"
same "$PV_TOP/hooks/pre-merge-commit" .git/hooks/pre-merge-commit "installed hook = hooks/pre-merge-commit"
[ -x .git/hooks/pre-merge-commit ] || fail "the pre-merge-commit hook is not executable"
git check-attr merge diff -- .pv/tables/t/00000001.jsonl > attrs.out
printf '.pv/tables/t/00000001.jsonl: merge: pv\n.pv/tables/t/00000001.jsonl: diff: pv\n' > attrs.want
same attrs.want attrs.out "git sees the attributes"

# idempotent: nothing changes the second time
cp .git/config "$T/config.setup"
pvdev git-setup > again.out
printf '.gitattributes: up to date\nconfig: up to date\nhooks: pre-commit up to date\nhooks: pre-merge-commit up to date\n' > again.want
same again.want again.out "git-setup a second time"
same "$T/config.setup" .git/config "config unchanged by a second git-setup"
same attr.want .gitattributes ".gitattributes unchanged by a second git-setup"

# a clone has the attributes (tracked) but not the config: every command warns
pvdev sql "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a')" 2> warn.err
[ ! -s warn.err ] || fail "a set-up repository warned: $(cat warn.err)"
git add -A && git commit -qm one
git clone -q "$T/r" "$T/clone"
cd "$T/clone"
pvdev sql "SELECT v FROM t" > sel.out 2> sel.err
[ "$(cat sel.out)" = "a" ] || fail "select in the clone: $(cat sel.out)"
printf "pvdev: warning: .gitattributes sends .pv/ files to the pv merge driver, but this clone's git config has no merge.pv.driver: git would merge chunk files as text. Run 'pvdev git-setup'.\n" > warn.want
same warn.want sel.err "the warning of a clone without git-setup"
pvdev git-setup > setup.out
printf ".gitattributes: up to date\nconfig: merge.pv.driver = pvdev merge-driver %%O %%A %%B %%L %%P, diff.pv.textconv = pvdev textconv --v1\nhooks: installed $T/clone/.git/hooks/pre-commit\nhooks: installed $T/clone/.git/hooks/pre-merge-commit\n" > setup.want
same setup.want setup.out "git-setup in a clone"
pvdev sql "SELECT v FROM t" > sel.out 2> sel.err
[ ! -s sel.err ] || fail "still warns after git-setup: $(cat sel.err)"

# --uninstall leaves no trace: the config as before, our attribute line gone
cd "$T/r"
pvdev git-setup --uninstall > un.out
printf ".gitattributes: removed '.pv/tables/** merge=pv diff=pv'\nconfig: removed merge.pv.* and diff.pv.*\nhooks: removed $T/r/.git/hooks/pre-commit\nhooks: removed $T/r/.git/hooks/pre-merge-commit\n" > un.want
same un.want un.out "git-setup --uninstall output"
same "$T/config.before" .git/config "config after --uninstall"
printf '*.csv text\n' > attr0.want
same attr0.want .gitattributes ".gitattributes after --uninstall"
[ ! -e .git/hooks/pre-commit ] && [ ! -e .git/hooks/pre-merge-commit ] || fail "a hook is still there"
pvdev git-setup --uninstall > un2.out
printf 'config: nothing to remove\n' > un2.want
same un2.want un2.out "a second --uninstall"
# a file that held only our line goes
rm .gitattributes
pvdev git-setup > /dev/null
pvdev git-setup --uninstall > /dev/null
[ ! -e .gitattributes ] || fail ".gitattributes left behind"

# a hook pvdev did not write is never replaced, nor removed
printf '#!/bin/sh\necho mine\n' > .git/hooks/pre-commit
cp .git/hooks/pre-commit "$T/mine"
pvdev git-setup > foreign.out
printf ".gitattributes: added '.pv/tables/** merge=pv diff=pv' (commit it)\nconfig: merge.pv.driver = pvdev merge-driver %%O %%A %%B %%L %%P, diff.pv.textconv = pvdev textconv --v1\nhooks: $T/r/.git/hooks/pre-commit exists and was not written by pvdev: left alone; add this line to it\n       (or to your hook manager's pre-commit): pvdev hook pre-commit || exit 1\nhooks: installed $T/r/.git/hooks/pre-merge-commit\n" > foreign.want
same foreign.want foreign.out "git-setup next to a foreign hook"
same "$T/mine" .git/hooks/pre-commit "the foreign hook is untouched"
pvdev git-setup --uninstall > /dev/null
same "$T/mine" .git/hooks/pre-commit "the foreign hook survives --uninstall"
rm .git/hooks/pre-commit

# core.hooksPath: the hooks go where git runs them
git config core.hooksPath .githooks
pvdev git-setup > hp.out
grep -qx "hooks: installed $T/r/.githooks/pre-commit" hp.out || fail "core.hooksPath: $(cat hp.out)"
same "$PV_TOP/hooks/pre-commit" .githooks/pre-commit "hook in core.hooksPath"
git config --unset core.hooksPath
pvdev git-setup --uninstall > /dev/null

# a linked worktree: hooks go to the common directory, config is shared
git worktree add -q "$T/wt" 2>/dev/null
cd "$T/wt"
pvdev git-setup > wt.out
grep -qx "hooks: installed $T/r/.git/hooks/pre-commit" wt.out || fail "worktree hooks: $(cat wt.out)"
cd "$T/r"
[ "$(git config merge.pv.driver)" = "pvdev merge-driver %O %A %B %L %P" ] || fail "worktree config not shared"

# a driver the user configured is kept (like a foreign hook) unless --force;
# a value an earlier pvdev wrote (an older textconv version) is updated
cd "$T/r"
git config merge.pv.driver "/opt/pv/bin/pvdev merge-driver %O %A %B %L %P"
git config diff.pv.textconv "pvdev textconv --v0"
pvdev git-setup > mine.out
printf "config: merge.pv.driver = /opt/pv/bin/pvdev merge-driver %%O %%A %%B %%L %%P kept (not pvdev's value: pvdev merge-driver %%O %%A %%B %%L %%P); 'pvdev git-setup --force' replaces it\nconfig: merge.pv.driver = /opt/pv/bin/pvdev merge-driver %%O %%A %%B %%L %%P, diff.pv.textconv = pvdev textconv --v1\n" > mine.want
grep '^config:' mine.out > mine.cfg || true
same mine.want mine.cfg "git-setup next to the user's own merge driver"
[ "$(git config merge.pv.driver)" = "/opt/pv/bin/pvdev merge-driver %O %A %B %L %P" ] || fail "the user's merge.pv.driver was replaced: $(git config merge.pv.driver)"
[ "$(git config diff.pv.textconv)" = "pvdev textconv --v1" ] || fail "an older pvdev textconv was not updated: $(git config diff.pv.textconv)"
git config diff.pv.cachetextconv false
pvdev git-setup --force > force.out
[ "$(git config merge.pv.driver)" = "pvdev merge-driver %O %A %B %L %P" ] || fail "--force kept merge.pv.driver"
[ "$(git config diff.pv.cachetextconv)" = "true" ] || fail "--force kept diff.pv.cachetextconv"
pvdev git-setup --bogus > /dev/null 2>&1 && fail "git-setup took an unknown option"
pvdev git-setup --uninstall --force > /dev/null 2>&1 && fail "git-setup took --uninstall with --force"
# pvdev init in a repository whose config already names a driver keeps it
mkdir "$T/own" && cd "$T/own"
git init -q -b main .
git config merge.pv.driver "pv-wrapper %O %A %B %L %P"
pvdev init > own.out
[ "$(git config merge.pv.driver)" = "pv-wrapper %O %A %B %L %P" ] || fail "pvdev init replaced merge.pv.driver: $(git config merge.pv.driver)"
[ "$(git config diff.pv.textconv)" = "pvdev textconv --v1" ] || fail "pvdev init did not set diff.pv.textconv"
grep -q "^config: merge.pv.driver = pv-wrapper %O %A %B %L %P kept" own.out || fail "init did not say it kept the driver: $(cat own.out)"

# outside a repository, init makes a workspace and no git set-up
mkdir "$T/plain" && cd "$T/plain"
GIT_CEILING_DIRECTORIES="$T" pvdev init > plain.out
[ "$(cat plain.out)" = "initialized PicoVolt workspace in $T/plain/.pv" ] || fail "init outside git: $(cat plain.out)"
[ ! -e .gitattributes ] || fail "init outside git wrote .gitattributes"
echo ok
