/* a compile error: a global defined twice with initializers */
int xxx = 1;
int xxx = 2;
int main(void) { return xxx; }
