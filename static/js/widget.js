/* Reader widget: typo reports (Ctrl/Cmd+Enter) and comments. See issue "Reader widget". */
