/* nogss.c - the GSSAPI calls libzmq's archive names, answered "unavailable".
 *
 * The kernel links libzmq statically (Makefile, KERNEL_LINK) so that it
 * maps only the code it runs. libzmq's GSSAPI (Kerberos) security
 * mechanism refers to these functions, but it runs only on a socket given
 * the ZMQ_GSSAPI_* options, which Jupyter never sets (its messages are
 * signed with HMAC, see wire.c). Debian ships libgssapi_krb5 only as a
 * shared library, which would load six more (Kerberos, its crypto and
 * support library, com_err, keyutils, resolv: with it 0.6 MiB resident in
 * every kernel) for nothing. Should the mechanism ever be asked for, every
 * call fails cleanly and libzmq refuses the handshake, as with a server
 * that has no Kerberos. */
#include <gssapi/gssapi.h>

static gss_OID_desc no_name_type = { 0, NULL };
gss_OID GSS_C_NT_HOSTBASED_SERVICE = &no_name_type;
gss_OID GSS_C_NT_USER_NAME = &no_name_type;

static OM_uint32 unavailable(OM_uint32 *minor) {
    if (minor) *minor = 0;
    return GSS_S_UNAVAILABLE;
}

static OM_uint32 nothing_to_release(OM_uint32 *minor) {
    if (minor) *minor = 0;
    return GSS_S_COMPLETE;
}

OM_uint32 gss_acquire_cred(OM_uint32 *minor, gss_name_t name, OM_uint32 time_req,
                           gss_OID_set mechs, gss_cred_usage_t usage, gss_cred_id_t *cred,
                           gss_OID_set *actual, OM_uint32 *time_rec) {
    (void)name, (void)time_req, (void)mechs, (void)usage, (void)actual, (void)time_rec;
    if (cred) *cred = GSS_C_NO_CREDENTIAL;
    return unavailable(minor);
}

OM_uint32 gss_init_sec_context(OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *ctx,
                               gss_name_t target, gss_OID mech, OM_uint32 flags,
                               OM_uint32 time_req, gss_channel_bindings_t bindings,
                               gss_buffer_t in, gss_OID *actual, gss_buffer_t out,
                               OM_uint32 *ret_flags, OM_uint32 *time_rec) {
    (void)cred, (void)ctx, (void)target, (void)mech, (void)flags, (void)time_req;
    (void)bindings, (void)in, (void)actual, (void)ret_flags, (void)time_rec;
    if (out) out->length = 0, out->value = NULL;
    return unavailable(minor);
}

OM_uint32 gss_accept_sec_context(OM_uint32 *minor, gss_ctx_id_t *ctx, gss_cred_id_t cred,
                                 gss_buffer_t in, gss_channel_bindings_t bindings,
                                 gss_name_t *src, gss_OID *mech, gss_buffer_t out,
                                 OM_uint32 *ret_flags, OM_uint32 *time_rec,
                                 gss_cred_id_t *delegated) {
    (void)ctx, (void)cred, (void)in, (void)bindings, (void)src, (void)mech;
    (void)ret_flags, (void)time_rec, (void)delegated;
    if (out) out->length = 0, out->value = NULL;
    return unavailable(minor);
}

OM_uint32 gss_import_name(OM_uint32 *minor, gss_buffer_t in, gss_OID type, gss_name_t *out) {
    (void)in, (void)type;
    if (out) *out = GSS_C_NO_NAME;
    return unavailable(minor);
}

OM_uint32 gss_display_name(OM_uint32 *minor, gss_name_t name, gss_buffer_t out, gss_OID *type) {
    (void)name, (void)type;
    if (out) out->length = 0, out->value = NULL;
    return unavailable(minor);
}

OM_uint32 gss_wrap(OM_uint32 *minor, gss_ctx_id_t ctx, int conf, gss_qop_t qop,
                   gss_buffer_t in, int *conf_state, gss_buffer_t out) {
    (void)ctx, (void)conf, (void)qop, (void)in, (void)conf_state, (void)out;
    return unavailable(minor);
}

OM_uint32 gss_unwrap(OM_uint32 *minor, gss_ctx_id_t ctx, gss_buffer_t in, gss_buffer_t out,
                     int *conf_state, gss_qop_t *qop) {
    (void)ctx, (void)in, (void)out, (void)conf_state, (void)qop;
    return unavailable(minor);
}

OM_uint32 gss_delete_sec_context(OM_uint32 *minor, gss_ctx_id_t *ctx, gss_buffer_t out) {
    (void)ctx, (void)out;
    return nothing_to_release(minor);
}

OM_uint32 gss_release_cred(OM_uint32 *minor, gss_cred_id_t *cred) {
    (void)cred;
    return nothing_to_release(minor);
}

OM_uint32 gss_release_name(OM_uint32 *minor, gss_name_t *name) {
    (void)name;
    return nothing_to_release(minor);
}

OM_uint32 gss_release_buffer(OM_uint32 *minor, gss_buffer_t buffer) {
    if (buffer) buffer->length = 0, buffer->value = NULL;
    return nothing_to_release(minor);
}
