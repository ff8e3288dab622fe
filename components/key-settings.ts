/** Settings every KMS key of the lake shares (layer, backup, alarm topic and query-results keys). */

/** Days a scheduled key deletion waits, the maximum AWS allows: time to notice and cancel a mistake. */
export const KEY_DELETION_WINDOW_DAYS = 30;
