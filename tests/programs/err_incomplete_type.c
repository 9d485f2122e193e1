/* a compile error: a variable of an incomplete struct type */
struct opaque;
int main(void)
{
    struct opaque o;
    return 0;
}
