#!/usr/bin/env bash
# MediaWiki redirects as titles of their targets (docs/INPUT.md, "Redirects"):
# a redirect's title finds its target article (title: and unfielded), with
# both engines, wherever the redirect stands in the dump (before or after
# its target, through another redirect), but is shown nowhere (idx get,
# result titles and snippets); redirects are not articles; a redirect to a
# missing page or in a loop is counted unresolved; from standard input only
# redirects before their target apply; an append applies its redirects to
# the articles it (re)indexes. Then the real English Wikipedia export.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_tmpdir redirects

page() { # TITLE ID [REDIRECT_TARGET] TEXT [NS]
    local target=${3:+<redirect title=\"$3\" />}
    printf '<page><title>%s</title><ns>%s</ns><id>%s</id>%s<revision><id>9%s</id>' \
        "$1" "${5:-0}" "$2" "$target" "$2"
    printf '<timestamp>2020-01-0%sT00:00:00Z</timestamp><text>%s</text></revision></page>\n' \
        "$(($2 % 9 + 1))" "$4"
}
{
    echo '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">'
    echo '<siteinfo><base>https://en.example.org/wiki/Main_Page</base></siteinfo>'
    page USA 1 "United States" "#REDIRECT [[United States]]"           # before its target
    page "Lone Star Republic" 2 "Nowhere Land" "#REDIRECT [[Nowhere Land]]" # no such page
    page "United States" 3 "" "The United States is a federal republic of fifty states."
    page Yankeeland 4 "United_States#History" "#REDIRECT [[United States#History]]" # after it
    page Amerika 5 USA "#REDIRECT [[USA]]"                              # to a redirect
    page "Loop one" 6 "Loop two" "#REDIRECT [[Loop two]]"
    page "Loop two" 7 "Loop one" "#REDIRECT [[Loop one]]"
    page "Gallia" 8 "" "#REDIRECT [[france|the French republic]]" # without <redirect/>
    page France 9 "" "France is a country in western Europe."
    page "Talk:Frankreich" 10 France "#REDIRECT [[France]]" 1          # not an article's name
    echo '</mediawiki>'
} > "$T/wiki.xml"

ids() { # INDEX QUERY -> the ids found, space-separated
    "$IDX" query -i "$1" -k 10 --format json "$2" | grep -o '"id":"[^"]*"' | cut -d'"' -f4 |
        tr '\n' ' '
}

for engine in native xapian; do
    ix=$T/ix-$engine
    "$IDX" build --engine "$engine" -o "$ix" "$T/wiki.xml" > /dev/null 2> "$T/err-$engine"
    check "$engine: 2 articles, redirects not indexed" grep -qF ": 2 docs, 0 skipped" "$T/err-$engine"
    check "$engine: 4 redirects applied, 3 unresolved (missing target, loop)" \
        grep -qF "4 redirect titles added to their articles, 3 unresolved" "$T/err-$engine"
    check "$engine: a redirect before its target finds it" test "$(ids "$ix" usa)" = "3 "
    check "$engine: ... with title:" test "$(ids "$ix" title:usa)" = "3 "
    check "$engine: a redirect after its target (_ and #section) finds it" \
        test "$(ids "$ix" title:yankeeland)" = "3 "
    check "$engine: a redirect to a redirect finds the article" test "$(ids "$ix" amerika)" = "3 "
    check "$engine: #REDIRECT [[lower case|label]] without <redirect/>" \
        test "$(ids "$ix" title:gallia)" = "9 "
    check "$engine: a redirect to a missing page finds nothing" test "$(ids "$ix" 'lone star')" = ""
    check "$engine: a loop of redirects finds nothing" test "$(ids "$ix" loop)" = ""
    check "$engine: other namespaces give no title" test "$(ids "$ix" frankreich)" = ""
    check "$engine: a phrase does not span the title and a redirect title" \
        test "$(ids "$ix" '"states usa"')" = ""
    check "$engine: the article's own title still found" \
        test "$(ids "$ix" 'title:"united states"')" = "3 "
    "$IDX" get -i "$ix" --format json 3 > "$T/get-$engine"
    check "$engine: idx get shows no redirect title" \
        bash -c '! grep -qiE "usa|yankeeland|amerika" "$1"' _ "$T/get-$engine"
    check "$engine: idx get keeps the title" grep -qF '"title":"United States"' "$T/get-$engine"
    # The hit without the echo of the query.
    "$IDX" query -i "$ix" --format json yankeeland | sed 's/"query":"[^"]*"//' > "$T/q-$engine"
    check "$engine: results show neither title nor snippet of a redirect" \
        bash -c '! grep -qi yankeeland "$1" && grep -qF "\"title\":\"United States\"" "$1"' _ \
        "$T/q-$engine"
done

# Standard input cannot be read twice: the redirects before their targets apply.
"$IDX" build -o "$T/ix-stdin" - < "$T/wiki.xml" > /dev/null 2> "$T/err-stdin"
check "stdin: redirects before their target applied, the others unresolved" \
    grep -qF "2 redirect titles added to their articles, 5 unresolved" "$T/err-stdin"
check "stdin: before the target" test "$(ids "$T/ix-stdin" title:usa)" = "3 "
check "stdin: after the target not" test "$(ids "$T/ix-stdin" yankeeland)" = ""

# An append: its redirects apply to the articles it indexes, not to those
# already in the index.
{
    echo '<mediawiki>'
    page Stateside 11 "United States" "#REDIRECT [[United States]]"
    echo '</mediawiki>'
} > "$T/redirect-only.xml"
{
    echo '<mediawiki>'
    page "United States" 3 "" "The United States is a federal republic of fifty states."
    page Stateside 11 "United States" "#REDIRECT [[United States]]"
    echo '</mediawiki>'
} > "$T/again.xml"
cp -r "$T/ix-native" "$T/ix-app"
run_rc "$IDX" build --append --no-merge -o "$T/ix-app" "$T/redirect-only.xml" > /dev/null 2> "$T/err-app1"
check "append of a redirect alone: refused, nothing to add" test "$rc" = 3
"$IDX" build --append --no-merge -o "$T/ix-app" "$T/again.xml" > /dev/null 2> "$T/err-app2"
check "append: the re-indexed target gets the append's redirects" \
    test "$(ids "$T/ix-app" stateside)" = "3 "
check "append: counted" grep -qF "1 redirect titles added to their articles, 0 unresolved" \
    "$T/err-app2"

# The real export: 33 articles, 11 redirects of which 2 lead to an article
# of the sample (POW before Prisoner of war, Panjabi language after Punjabi
# language).
WIKI=$SHARED/corpora/mediawiki-sample/en_test.xml.bz2
if [ -f "$WIKI" ]; then
    for engine in native xapian; do
        ix=$T/wiki-$engine
        "$IDX" build --engine "$engine" -o "$ix" "$WIKI" > /dev/null 2> "$T/err-wiki-$engine"
        check "Wikipedia ($engine): 33 articles" grep -qF ": 33 docs, 0 skipped" \
            "$T/err-wiki-$engine"
        check "Wikipedia ($engine): 2 redirects applied, 9 to pages not in the sample" \
            grep -qF "2 redirect titles added to their articles, 9 unresolved" \
            "$T/err-wiki-$engine"
        "$IDX" query -i "$ix" -k 5 --format json title:pow > "$T/pow-$engine"
        check "Wikipedia ($engine): title:pow finds Prisoner of war" \
            grep -qF '"title":"Prisoner of war"' "$T/pow-$engine"
        "$IDX" query -i "$ix" -k 5 --format json 'title:"panjabi language"' > "$T/pj-$engine"
        check "Wikipedia ($engine): title:\"panjabi language\" finds Punjabi language" \
            grep -qF '"title":"Punjabi language"' "$T/pj-$engine"
        check "Wikipedia ($engine): a redirect to a page not in the sample finds nothing" \
            test "$(ids "$ix" 'title:"potential divider"')" = ""
    done
    id=$("$IDX" query -i "$T/wiki-native" -k 1 --format json 'title:"panjabi language"' |
        grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
    "$IDX" get -i "$T/wiki-native" --format text "$id" > "$T/pj-get"
    check "Wikipedia: idx get shows the article's title only" grep -qx "title: Punjabi language" \
        "$T/pj-get"
else
    echo "skip Wikipedia export: $WIKI not found"
fi

e2e_finish
