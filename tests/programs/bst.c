/* A binary search tree: insert, search, height, in-order and level-order
 * traversal, with a struct node of its own. */
#include <stdio.h>
#include <stdlib.h>

struct node {
    int key;
    struct node *left, *right;
};

struct node *insert(struct node *t, int key)
{
    if (!t) {
        t = calloc(1, sizeof *t);
        t->key = key;
    } else if (key < t->key)
        t->left = insert(t->left, key);
    else if (key > t->key)
        t->right = insert(t->right, key);
    return t;
}

int contains(const struct node *t, int key)
{
    while (t && t->key != key)
        t = key < t->key ? t->left : t->right;
    return t != NULL;
}

int height(const struct node *t)
{
    if (!t)
        return 0;
    int l = height(t->left), r = height(t->right);
    return 1 + (l > r ? l : r);
}

void inorder(const struct node *t)
{
    if (!t)
        return;
    inorder(t->left);
    printf("%d ", t->key);
    inorder(t->right);
}

void level_order(struct node *t)
{
    struct node *queue[64];
    int head = 0, tail = 0;
    queue[tail++] = t;
    while (head < tail) {
        struct node *n = queue[head++];
        printf("%d ", n->key);
        if (n->left) queue[tail++] = n->left;
        if (n->right) queue[tail++] = n->right;
    }
    printf("\n");
}

void destroy(struct node *t)
{
    if (t) {
        destroy(t->left);
        destroy(t->right);
        free(t);
    }
}

int main(void)
{
    int keys[] = {50, 30, 70, 20, 40, 60, 80, 35, 45, 65, 30};
    struct node *root = NULL;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        root = insert(root, keys[i]);
    inorder(root);
    printf("\n");
    level_order(root);
    printf("height %d\n", height(root));
    printf("contains 45: %d, contains 55: %d\n", contains(root, 45), contains(root, 55));
    destroy(root);
    return 0;
}
