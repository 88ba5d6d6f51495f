#!/usr/bin/env bash
# Regenerate the message catalogs and compile them. Run from the repository root:
#
#     scripts/messages.sh
#
# 1. makemessages for zh_Hans and en. It merges into the existing catalogs, so every
#    translation already made is kept; --no-obsolete drops messages no longer in the code.
# 2. Messages marked with an alias of gettext_noop (processes/messages.py imports it as
#    N_) are invisible to makemessages, which only knows Django's own keyword names. They
#    are extracted here with xgettext --keyword=N_ and merged back with the translations
#    they had before step 1 (which dropped them as obsolete).
# 3. viewflow's own English strings are translated in locale/_sources/viewflow.zh_Hans.po;
#    step 1 drops them from the zh_Hans catalog (they are not in our code), so they are
#    merged back here. Our catalog comes first: its header (nplurals=1) and its
#    translations win.
# 4. compilemessages.
set -euo pipefail

if [[ ! -f manage.py || ! -d locale ]]; then
    echo "run me from the repository root: scripts/messages.sh" >&2
    exit 1
fi

PYTHON=${PYTHON:-.venv/bin/python}
LOCALES=(zh_Hans en)
IGNORES=(--ignore=.venv --ignore=var --ignore=tests --ignore=bench)
VIEWFLOW_ZH=locale/_sources/viewflow.zh_Hans.po

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Keep the catalogs as they are now: step 2 takes the N_ messages' translations from them.
for lang in "${LOCALES[@]}"; do
    po=locale/$lang/LC_MESSAGES/django.po
    if [[ -f $po ]]; then
        cp "$po" "$tmp/$lang.before.po"
    fi
done

# 1. our messages
"$PYTHON" manage.py makemessages -l zh_Hans -l en "${IGNORES[@]}" --no-obsolete -e html,py,txt

# 2. messages marked with N_ (gettext_noop under another name), same files as step 1
mapfile -t noop_files < <(
    find . \( -path ./.venv -o -path ./var -o -path ./tests -o -path ./bench -o -name '.*' ! -name . \) -prune \
        -o -type f -name '*.py' -print \
        | sed 's|^\./||' | LC_ALL=C sort | xargs -r grep -l -E '\bN_\(' || true
)
if ((${#noop_files[@]})); then
    xgettext --language=Python --from-code=UTF-8 --add-comments=Translators \
        --keyword= --keyword=N_ --force-po -o "$tmp/noop.pot" "${noop_files[@]}"
    for lang in "${LOCALES[@]}"; do
        po=locale/$lang/LC_MESSAGES/django.po
        if [[ -f $tmp/$lang.before.po ]]; then
            msgmerge --quiet --previous -o "$tmp/$lang.noop.po" "$tmp/$lang.before.po" "$tmp/noop.pot"
            msgattrib --no-obsolete -o "$tmp/$lang.noop.po" "$tmp/$lang.noop.po"
        else
            msginit --no-translator --locale="$lang" --input="$tmp/noop.pot" -o "$tmp/$lang.noop.po"
        fi
        # makemessages' own entries first: if N_ is ever replaced by gettext_noop, nothing doubles
        msgcat --use-first "$po" "$tmp/$lang.noop.po" -o "$po"
    done
fi

# 3. viewflow's strings into zh_Hans (our header and translations first)
msgcat --use-first locale/zh_Hans/LC_MESSAGES/django.po "$VIEWFLOW_ZH" -o locale/zh_Hans/LC_MESSAGES/django.po

# 4. compile
"$PYTHON" manage.py compilemessages --ignore=.venv --ignore=var

for lang in "${LOCALES[@]}"; do
    po=locale/$lang/LC_MESSAGES/django.po
    echo -n "$po: "
    msgfmt --statistics -o /dev/null "$po"
done
