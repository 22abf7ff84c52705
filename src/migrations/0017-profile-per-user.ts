/**
 * Migration 0017: every user has a profile, as the design says ("one per user"). Users written by bulk paths (the
 * MovieLens import's placeholder viewers, the demo population, the served evaluation) had none, and reading such an
 * account (GetUser, ListUsers) failed. Those paths now write the profile with the user; this backfills the rest.
 */
import { Migration } from "@mikro-orm/migrations";

export class ProfilePerUser extends Migration {
  override up(): void {
    this.addSql(
      "insert into user_profiles (user_id, created_at, updated_at) select u.id, u.created_at, u.created_at from users u where not exists (select 1 from user_profiles p where p.user_id = u.id)",
    );
  }

  override down(): void {
    // Nothing to undo: a profile with its defaults is what the account would have had.
  }
}
