from enum import StrEnum


class AccountsErrorCode(StrEnum):
    SIGNATURE_PASSWORD_INVALID = "accounts.signature_password_invalid"
    SIGNATURE_NOT_ALLOWED = "accounts.signature_not_allowed"
    SIGNATURE_MEANING_INVALID = "accounts.signature_meaning_invalid"
    TOKEN_INVALID = "accounts.token_invalid"
    USERNAME_TAKEN = "accounts.username_taken"
    ROLE_INVALID = "accounts.role_invalid"
