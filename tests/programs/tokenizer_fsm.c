/* A small state machine: a tokenizer that splits a line into numbers,
 * identifiers and operators, one character at a time. */
#include <stdio.h>
#include <ctype.h>

enum state { START, IN_NUMBER, IN_IDENT };

static const char *const state_name[] = {"START", "IN_NUMBER", "IN_IDENT"};

void emit(const char *kind, const char *begin, const char *end)
{
    printf("%-6s '%.*s'\n", kind, (int)(end - begin), begin);
}

void tokenize(const char *s)
{
    enum state st = START;
    const char *tok = s;
    int transitions = 0;
    for (const char *p = s;; p++) {
        char c = *p;
        enum state next = st;
        switch (st) {
        case IN_NUMBER:
            if (isdigit((unsigned char)c))
                continue;
            emit("number", tok, p);
            next = START;
            break;
        case IN_IDENT:
            if (isalnum((unsigned char)c) || c == '_')
                continue;
            emit("ident", tok, p);
            next = START;
            break;
        case START:
            break;
        }
        if (next == START) {
            if (isdigit((unsigned char)c))
                next = IN_NUMBER, tok = p;
            else if (isalpha((unsigned char)c) || c == '_')
                next = IN_IDENT, tok = p;
            else if (c && !isspace((unsigned char)c))
                emit("op", p, p + 1);
        }
        if (next != st)
            transitions++;
        st = next;
        if (!c)
            break;
    }
    printf("%d transitions, final state %s\n", transitions, state_name[st]);
}

int main(void)
{
    tokenize("x1 = 42+y_2*(7 - count)");
    tokenize("");
    return 0;
}
