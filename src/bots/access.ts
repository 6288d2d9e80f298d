/** Who may use the bot and who is an admin. Pure: entries are `platform:id` strings from the settings. */
export interface AccessConfig {
  admins: string[];
  allowedUsers: string[];
  allowedChats: string[];
}

export interface Access {
  isAdmin(platform: string, userId: string): boolean;
  /** Empty allowlists let everyone in; admins always pass. */
  isAllowed(platform: string, userId: string, chatId?: string): boolean;
}

export function createAccess(cfg: AccessConfig): Access {
  const admins = new Set(cfg.admins);
  const users = new Set(cfg.allowedUsers);
  const chats = new Set(cfg.allowedChats);
  const isAdmin = (platform: string, userId: string) => admins.has(`${platform}:${userId}`);
  return {
    isAdmin,
    isAllowed(platform, userId, chatId) {
      if (isAdmin(platform, userId)) return true;
      const userOk = users.size === 0 || users.has(`${platform}:${userId}`);
      const chatOk = chats.size === 0 || (chatId !== undefined && chats.has(`${platform}:${chatId}`));
      return userOk && chatOk;
    },
  };
}
