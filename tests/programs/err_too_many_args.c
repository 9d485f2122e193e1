/* a compile error: too many arguments */
static int sq(int x) { return x * x; }
int main(void) { return sq(1, 2); }
