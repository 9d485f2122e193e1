/* assigning to a const is only a warning in tcc 0.9.27: the program runs */
int main(void)
{
    const int limit = 10;
    limit = 20;
    return limit;
}
