/* a compile error: a function defined twice */
int f(void) { return 1; }
int g(void) { return 2; }
int f(void) { return 3; }
int main(void) { return f() + g(); }
