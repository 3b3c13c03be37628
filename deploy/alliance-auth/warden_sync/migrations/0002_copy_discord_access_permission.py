"""Creates warden_sync.access_discord ("Can access the Discord service") and gives it to every user,
group and state that has Alliance Auth's discord.access_discord, so a site moving from Alliance Auth's
Discord service keeps exactly who may use Discord.

Alliance Auth's permission is read from the database (auth_permission and its content type), so this
works after `allianceauth.services.modules.discord` has left INSTALLED_APPS, and does nothing on a site
that never had it. The old permission is left in place; `remove_stale_contenttypes` may delete it
later without changing anyone's access.
"""

from django.db import migrations

NAME = "Can access the Discord service"


def copy_assignments(apps, schema_editor):
    db = schema_editor.connection.alias
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    State = apps.get_model("authentication", "State")

    content_type, _ = ContentType.objects.using(db).get_or_create(app_label="warden_sync", model="general")
    new, _ = Permission.objects.using(db).get_or_create(
        content_type=content_type, codename="access_discord", defaults={"name": NAME})
    old = (Permission.objects.using(db)
           .filter(content_type__app_label="discord", codename="access_discord").first())
    if old is None:
        return
    for user in User.objects.using(db).filter(user_permissions=old):
        user.user_permissions.add(new.pk)
    for group in Group.objects.using(db).filter(permissions=old):
        group.permissions.add(new.pk)
    for state in State.objects.using(db).filter(permissions=old):
        state.permissions.add(new.pk)  # by pk: State.permissions targets Auth's Permission proxy


class Migration(migrations.Migration):
    dependencies = [
        ("warden_sync", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("authentication", "0025_v5squash"),
    ]

    operations = [migrations.RunPython(copy_assignments, migrations.RunPython.noop)]
