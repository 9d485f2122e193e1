/* computed goto: a tiny threaded interpreter */
#include <stdio.h>
enum { PUSH, ADD, MUL, PRINT, HALT };
int main(void)
{
    int code[] = { PUSH, 6, PUSH, 7, MUL, PUSH, 3, ADD, PRINT, HALT };
    static void *ops[] = { &&op_push, &&op_add, &&op_mul, &&op_print, &&op_halt };
    int stack[16], sp = 0, pc = 0;
#define NEXT goto *ops[code[pc++]]
    NEXT;
op_push: stack[sp++] = code[pc++]; NEXT;
op_add: sp--; stack[sp - 1] += stack[sp]; NEXT;
op_mul: sp--; stack[sp - 1] *= stack[sp]; NEXT;
op_print: printf("%d\n", stack[sp - 1]); NEXT;
op_halt: return 0;
}
