/* a compile error: using a void value */
static void nothing(void) { }
int main(void)
{
    int x = nothing();
    return x;
}
