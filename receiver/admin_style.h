/* admin_style.h: the dashboard's one stylesheet, served at
 * /admin/style.css by the receiver itself (no CDN, no build step). The
 * pages carry no inline style or script (the Content-Security-Policy
 * forbids both); on a narrow screen tables of rows become stacked cards.
 *
 * Ownership: static text. */
#ifndef M2J_RECEIVER_ADMIN_STYLE_H
#define M2J_RECEIVER_ADMIN_STYLE_H

extern const char rcv_admin_css[];

#endif
