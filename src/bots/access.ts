/** Who may use the bot and who is an admin. Pure: entries are `platform:id` strings from the settings. */
export interface AccessConfig {
  admins: string[];
  allowedUsers: string[];
  allowedChats: string[];
}

export interface Access {
  isAdmin(platform: string, userId: string): boolean;
  /** Empty allowlists let everyone in; admins always pass. A chat matches by any of its ids (guild or channel). */
  isAllowed(platform: string, userId: string, chatIds?: string | string[]): boolean;
}

export function createAccess(cfg: AccessConfig): Access {
  const admins = new Set(cfg.admins);
  const users = new Set(cfg.allowedUsers);
  const chats = new Set(cfg.allowedChats);
  const isAdmin = (platform: string, userId: string) => admins.has(`${platform}:${userId}`);
  return {
    isAdmin,
    isAllowed(platform, userId, chatIds) {
      if (isAdmin(platform, userId)) return true;
      const ids = chatIds === undefined ? [] : Array.isArray(chatIds) ? chatIds : [chatIds];
      const userOk = users.size === 0 || users.has(`${platform}:${userId}`);
      const chatOk = chats.size === 0 || ids.some((id) => chats.has(`${platform}:${id}`));
      return userOk && chatOk;
    },
  };
}
