/* A singly linked list: push, append, reverse, remove, free. */
#include <stdio.h>
#include <stdlib.h>

struct node {
    int value;
    struct node *next;
};

struct node *push(struct node *head, int value)
{
    struct node *n = malloc(sizeof *n);
    n->value = value;
    n->next = head;
    return n;
}

struct node *append(struct node *head, int value)
{
    struct node *n = malloc(sizeof *n), **p = &head;
    n->value = value;
    n->next = NULL;
    while (*p)
        p = &(*p)->next;
    *p = n;
    return head;
}

struct node *reverse(struct node *head)
{
    struct node *prev = NULL;
    while (head) {
        struct node *next = head->next;
        head->next = prev;
        prev = head;
        head = next;
    }
    return prev;
}

struct node *remove_value(struct node *head, int value)
{
    for (struct node **p = &head; *p; p = &(*p)->next)
        if ((*p)->value == value) {
            struct node *dead = *p;
            *p = dead->next;
            free(dead);
            break;
        }
    return head;
}

void print_list(const struct node *n)
{
    printf("[");
    for (; n; n = n->next)
        printf("%d%s", n->value, n->next ? " -> " : "");
    printf("]\n");
}

int length(const struct node *n) { return n ? 1 + length(n->next) : 0; }

void free_list(struct node *n)
{
    while (n) {
        struct node *next = n->next;
        free(n);
        n = next;
    }
}

int main(void)
{
    struct node *list = NULL;
    for (int i = 1; i <= 3; i++)
        list = push(list, i);
    list = append(list, 10);
    print_list(list);
    list = reverse(list);
    print_list(list);
    list = remove_value(list, 2);
    list = remove_value(list, 42);
    print_list(list);
    printf("length %d\n", length(list));
    free_list(list);
    print_list(NULL);
    return 0;
}
