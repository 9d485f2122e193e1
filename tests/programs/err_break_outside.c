/* a compile error: break outside a loop */
int main(void)
{
    int x = 1;
    if (x) break;
    return 0;
}
