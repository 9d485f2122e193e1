/* a compile error inside a function with labels */
void f(void)
{
lab: ;
    return 1 +;
}
int main(void) { f(); return 0; }
