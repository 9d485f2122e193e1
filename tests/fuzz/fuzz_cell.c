/* fuzz_cell.c - libFuzzer target for the kernel's own readers of what a
 * user types, before libtcc sees any of it: the magics parser (magics.c),
 * the lexer behind is_complete, completion and inspection (lexer.c), the
 * cell splitter (cell.c) and the declaration index and selection (decls.c),
 * which also runs over the cell when the cell's text is taken as a header.
 * A UTF-8 identifier once segfaulted the worker in the splitter: every
 * byte sequence must come through these without a crash, a leak or UB.
 * Seeds: corpus/cell (the programs in tests/programs and the notebooks'
 * cells, written by gen_corpus.py). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cell.h"
#include "decls.h"
#include "lexer.h"
#include "magics.h"

/* The splitter and the index take their working memory from the
 * compiler's scratch region, which the worker resets with each compile.
 * Here every block is a real malloc (so ASan sees each one's bounds), and
 * all of them are freed after each input, as the reset does. */
static void **blocks;
static size_t n_blocks, cap_blocks;

void *scratch_realloc(void *p, size_t size) {
    void *q = realloc(p, size ? size : 1);
    if (!q) return NULL;
    for (size_t i = 0; p && i < n_blocks; i++)
        if (blocks[i] == p) { blocks[i] = q; return q; }
    if (n_blocks == cap_blocks) {
        cap_blocks = cap_blocks ? 2 * cap_blocks : 64;
        blocks = realloc(blocks, cap_blocks * sizeof *blocks);
        if (!blocks) abort();
    }
    blocks[n_blocks++] = q;
    return q;
}

static void scratch_reset(void) {
    for (size_t i = 0; i < n_blocks; i++) free(blocks[i]);
    n_blocks = 0;
}

static size_t emitted;
static void count(void *ud, const char *text, size_t len) {
    (void)ud;
    (void)text;
    emitted += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *code = malloc(size + 1);
    if (!code) return 0;
    memcpy(code, data, size);
    code[size] = 0;                      /* the kernel's cells are C strings */

    magics m;
    if (magics_parse(code, &m) == 0 && m.code) {
        int indent = 0;
        lexer_is_complete(m.code, &indent);
        size_t n = 0;
        free(lexer_tokenize(m.code, &n, NULL));
        /* (cells come in JSON, so as valid UTF-8; these must not crash on any) */
        lexer_byte_offset(m.code, lexer_code_points(m.code, strlen(m.code)) / 2);

        cell c = {0};
        cell_split(m.code, &c);
        cell_free(&c);
        scratch_reset();

        decls *ix = decls_for(code);     /* the cell as a header's text */
        const char *uses[2] = { m.code, NULL };
        if (ix) decls_select(ix, uses, 2, count, NULL);
        scratch_reset();
    }
    magics_free(&m);
    free(code);
    return 0;
}
