#!/usr/bin/env bash
# Regenerate the message catalogs and compile them. Run from the repository root:
#
#     scripts/messages.sh
#
# 1. makemessages for zh_Hans and en. It merges into the existing catalogs, so every
#    translation already made is kept; --no-obsolete drops messages no longer in the code.
#    Mark deferred messages with gettext_noop by that name: makemessages knows only
#    Django's own keyword names, so an alias (N_) would be silently left out.
# 2. viewflow's own English strings are translated in locale/_sources/viewflow.zh_Hans.po;
#    step 1 drops them from the zh_Hans catalog (they are not in our code), so they are
#    merged back here. Our catalog comes first: its header (nplurals=1) and its
#    translations win.
# 3. compilemessages, then per-catalog statistics (fuzzy or untranslated English entries
#    are work left to do; tests/test_i18n.py fails on them).
set -euo pipefail

if [[ ! -f manage.py || ! -d locale ]]; then
    echo "run me from the repository root: scripts/messages.sh" >&2
    exit 1
fi

PYTHON=${PYTHON:-.venv/bin/python}
VIEWFLOW_ZH=locale/_sources/viewflow.zh_Hans.po

"$PYTHON" manage.py makemessages -l zh_Hans -l en \
    --ignore=.venv --ignore=var --ignore=tests --ignore=bench --no-obsolete -e html,py,txt

msgcat --use-first locale/zh_Hans/LC_MESSAGES/django.po "$VIEWFLOW_ZH" -o locale/zh_Hans/LC_MESSAGES/django.po

"$PYTHON" manage.py compilemessages --ignore=.venv --ignore=var

for lang in zh_Hans en; do
    po=locale/$lang/LC_MESSAGES/django.po
    echo -n "$po: "
    msgfmt --statistics -o /dev/null "$po"
done
