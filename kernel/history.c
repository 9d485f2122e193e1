/* history.c - the store behind history_request.
 *
 * Owns the inputs of this kernel run in memory (no database: a session's
 * history ends with it) and answers the three access types of messaging
 * 5.3 "History": tail (last n), range (session, start, stop exclusive) and
 * search (glob pattern, last n matches, unique). Entries are
 * [session, line, input], or [session, line, [input, null]] with output. */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include "history.h"

typedef struct { int line; char *input; } entry;

static entry *hist;
static size_t hist_len, hist_cap;

int history_add(int line, const char *input) {
    if (hist_len == hist_cap) {
        size_t cap = hist_cap ? hist_cap * 2 : 64;
        entry *e = realloc(hist, cap * sizeof *e);
        if (!e) return -1;
        hist = e;
        hist_cap = cap;
    }
    char *copy = strdup(input);
    if (!copy) return -1;
    hist[hist_len++] = (entry){ line, copy };
    return 0;
}

size_t history_count(void) { return hist_len; }

const char *history_input(size_t i) { return i < hist_len ? hist[i].input : NULL; }

void history_free(void) {
    for (size_t i = 0; i < hist_len; i++) free(hist[i].input);
    free(hist);
    hist = NULL;
    hist_len = hist_cap = 0;
}

static json_t *item(const entry *e, int output) {
    json_t *in = json_string(e->input);
    if (!in) in = json_string("");     /* jansson refuses invalid UTF-8 */
    if (output) in = json_pack("[o, n]", in);
    return json_pack("[i, i, o]", HISTORY_SESSION, e->line, in);
}

static int int_field(json_t *content, const char *name, int dflt) {
    json_t *v = json_object_get(content, name);
    return json_is_number(v) ? (int)json_number_value(v) : dflt;
}

json_t *history_query(json_t *content) {
    const char *type = json_string_value(json_object_get(content, "hist_access_type"));
    int output = json_is_true(json_object_get(content, "output"));
    json_t *out = json_array();
    if (!type || !out) return out;

    if (!strcmp(type, "tail")) {
        int n = int_field(content, "n", 10);
        size_t from = n > 0 && (size_t)n < hist_len ? hist_len - (size_t)n : 0;
        if (n <= 0) from = hist_len;
        for (size_t i = from; i < hist_len; i++)
            json_array_append_new(out, item(&hist[i], output));
    } else if (!strcmp(type, "range")) {
        /* Session 0 means the current one (as do its own number and
         * negative offsets from it, none of which exist before it). */
        int session = int_field(content, "session", 0);
        int start = int_field(content, "start", 1);
        int stop = int_field(content, "stop", 0);      /* exclusive; 0 = to the end */
        if (session == 0 || session == HISTORY_SESSION)
            for (size_t i = 0; i < hist_len; i++)
                if (hist[i].line >= start && (stop <= 0 || hist[i].line < stop))
                    json_array_append_new(out, item(&hist[i], output));
    } else if (!strcmp(type, "search")) {
        const char *pattern = json_string_value(json_object_get(content, "pattern"));
        int unique = json_is_true(json_object_get(content, "unique"));
        int n = int_field(content, "n", 0);
        if (!pattern) pattern = "*";
        /* Newest first, so that "unique" keeps the latest line of each
         * input; reversed at the end. */
        for (size_t i = hist_len; i-- > 0;) {
            if (fnmatch(pattern, hist[i].input, 0) != 0) continue;
            int dup = 0;
            for (size_t j = i + 1; unique && j < hist_len && !dup; j++)
                dup = !strcmp(hist[j].input, hist[i].input) &&
                      fnmatch(pattern, hist[j].input, 0) == 0;
            if (dup) continue;
            json_array_insert_new(out, 0, item(&hist[i], output));
            if (n > 0 && json_array_size(out) == (size_t)n) break;
        }
    }
    return out;
}
