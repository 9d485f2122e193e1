/* a compile error: a comment that never ends */
int main(void)
{
    return 0; /* oops
}
