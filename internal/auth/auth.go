// Package auth holds accounts, their passwords and sessions (R-USR-1,
// DOMAIN §7): every account belongs to one area and one role; passwords are
// bcrypt-hashed and must mix three kinds of character; five failures lock an
// account for fifteen minutes; sessions end after thirty idle minutes.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"tanfang/internal/audit"
	"tanfang/internal/store"
)

// Roles.
const (
	RoleAdmin   = "admin"   // system administrator
	RoleCity    = "city"    // 市民政局
	RoleCounty  = "county"  // 县区民政局
	RoleTown    = "town"    // 乡镇街道
	RoleVillage = "village" // 村居
	RoleVisitor = "visitor" // 探访人员
	RoleOrg     = "org"     // 养老服务组织 (reserved)
	RoleFamily  = "family"  // 子女亲属 (reserved)
)

// RoleNames gives each role's Chinese name.
var RoleNames = map[string]string{
	RoleAdmin: "系统管理员", RoleCity: "市民政局", RoleCounty: "县区民政局", RoleTown: "乡镇街道",
	RoleVillage: "村居", RoleVisitor: "探访人员", RoleOrg: "服务组织", RoleFamily: "家属",
}

// Policy numbers from DOMAIN §7 (等保2.0 level 3 as assessors apply it).
const (
	MaxFailures = 5
	LockFor     = 15 * time.Minute
	IdleTimeout = 30 * time.Minute
	// touchEvery keeps a busy session from writing on every request.
	touchEvery = time.Minute
)

// Errors callers branch on.
var (
	ErrBadCredentials = errors.New("bad credentials")
	ErrNoSession      = errors.New("no valid session")
)

// LockedError says until when an account is locked.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string { return "account locked until " + e.Until.Format(time.RFC3339) }

// InvalidError is bad input naming the field at fault, with a Chinese message.
type InvalidError struct{ Field, Message string }

func (e *InvalidError) Error() string { return e.Field + ": " + e.Message }

// User is an account.
type User struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
	AreaCode    string `json:"area_code"`
}

// CheckPassword applies the password policy: at least 8 characters of at
// least 3 kinds (upper case, lower case, digits, others).
func CheckPassword(pw string) error {
	if len([]rune(pw)) < 8 {
		return &InvalidError{"password", "密码至少8位"}
	}
	var up, low, dig, other int
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			up = 1
		case unicode.IsLower(r):
			low = 1
		case unicode.IsDigit(r):
			dig = 1
		default:
			other = 1
		}
	}
	if up+low+dig+other < 3 {
		return &InvalidError{"password", "密码须包含大写字母、小写字母、数字、符号中的至少三类"}
	}
	return nil
}

// Service runs accounts and sessions on a database with an injected clock.
type Service struct {
	DB  *store.DB
	Now func() time.Time
	// Cost is the bcrypt cost; tests lower it.
	Cost int
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// NewUser is what creating an account takes.
type NewUser struct {
	Username, DisplayName, Password, Role, AreaCode string
}

// CreateUser checks and stores a new account, auditing it as done by actor.
func (s *Service) CreateUser(ctx context.Context, nu NewUser, actor audit.Entry) (User, error) {
	nu.Username = strings.TrimSpace(nu.Username)
	if nu.Username == "" || len(nu.Username) > 64 || strings.ContainsAny(nu.Username, " \t\r\n") {
		return User{}, &InvalidError{"username", "用户名不能为空、不能含空格、不超过64个字符"}
	}
	if _, ok := RoleNames[nu.Role]; !ok {
		return User{}, &InvalidError{"role", "角色无效：" + nu.Role}
	}
	if err := CheckPassword(nu.Password); err != nil {
		return User{}, err
	}
	cost := s.Cost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(nu.Password), cost)
	if err != nil {
		return User{}, fmt.Errorf("hash password: %w", err)
	}
	now := s.now()
	u := User{Username: nu.Username, DisplayName: nu.DisplayName, Role: nu.Role, AreaCode: nu.AreaCode}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		var level string
		if err := tx.QueryRow(ctx, "SELECT level FROM areas WHERE code = ? AND retired_at IS NULL", nu.AreaCode).Scan(&level); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return &InvalidError{"area", "区划代码不存在或已撤销：" + nu.AreaCode}
			}
			return err
		}
		if want := roleLevel[nu.Role]; want != "" && want != level {
			return &InvalidError{"area", fmt.Sprintf("角色“%s”的账号应属于%s级区划", RoleNames[nu.Role], levelNames[want])}
		}
		id, err := tx.InsertID(ctx, `INSERT INTO users (username, display_name, password_hash, role, area_code, password_changed_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, u.Username, u.DisplayName, string(hash), u.Role, u.AreaCode, store.FormatTime(now), store.FormatTime(now))
		if err != nil {
			if store.IsUniqueViolation(err) {
				return &InvalidError{"username", "用户名已存在"}
			}
			return err
		}
		u.ID = id
		actor.At, actor.Action, actor.TargetType, actor.TargetID, actor.AreaCode, actor.Outcome = now, "user.create", "user", fmt.Sprint(id), u.AreaCode, audit.OK
		actor.Detail = "role=" + u.Role
		return audit.Append(ctx, tx, actor)
	})
	return u, err
}

// roleLevel ties government roles to the level of their area, so a county
// account cannot be made for a village by mistake. Visitors and the
// reserved roles may sit at any level.
var roleLevel = map[string]string{RoleCity: "city", RoleCounty: "county", RoleTown: "town"}
var levelNames = map[string]string{"city": "市", "county": "县区", "town": "乡镇街道"}

// Login checks a username and password from ip and, when they are right and
// the account is not locked, opens a session of the given kind ("web" or
// "api"). It returns the session secret, which is stored only as a hash.
func (s *Service) Login(ctx context.Context, username, password, ip, kind string) (string, User, time.Time, error) {
	now := s.now()
	var u User
	var hash string
	var failures int
	var lockedUntil sql.NullString
	var disabled bool
	err := s.DB.QueryRow(ctx, `SELECT id, username, display_name, role, area_code, password_hash, failed_logins, locked_until, disabled
		FROM users WHERE username = ?`, username).Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.AreaCode, &hash, &failures, &lockedUntil, &disabled)
	entry := audit.Entry{At: now, Actor: username, Action: "login", IP: ip, TargetType: "user"}
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the same time as a real check so a timing probe cannot list accounts.
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return "", User{}, time.Time{}, s.failUnknown(ctx, username, now, entry)
	}
	if err != nil {
		return "", User{}, time.Time{}, err
	}
	entry.ActorID, entry.TargetID, entry.AreaCode = u.ID, fmt.Sprint(u.ID), u.AreaCode
	if lockedUntil.Valid {
		if until := store.MustTime(lockedUntil.String); now.Before(until) {
			entry.Outcome, entry.Detail = audit.Denied, "locked"
			if err := audit.Log(ctx, s.DB, entry); err != nil {
				return "", User{}, time.Time{}, err
			}
			return "", User{}, time.Time{}, &LockedError{until}
		}
	}
	if disabled || bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		var lockErr error
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			// Count inside the transaction so concurrent failures all count.
			if err := tx.QueryRow(ctx, "SELECT failed_logins FROM users WHERE id = ?", u.ID).Scan(&failures); err != nil {
				return err
			}
			failures++
			entry.Outcome, entry.Detail = audit.Failed, fmt.Sprintf("failure %d", failures)
			if failures >= MaxFailures {
				until := now.Add(LockFor)
				lockErr = &LockedError{until}
				entry.Detail += "; locked"
				if _, err := tx.Exec(ctx, "UPDATE users SET failed_logins = 0, locked_until = ? WHERE id = ?", store.FormatTime(until), u.ID); err != nil {
					return err
				}
			} else if _, err := tx.Exec(ctx, "UPDATE users SET failed_logins = ? WHERE id = ?", failures, u.ID); err != nil {
				return err
			}
			return audit.Append(ctx, tx, entry)
		})
		if err != nil {
			return "", User{}, time.Time{}, err
		}
		if lockErr != nil {
			return "", User{}, time.Time{}, lockErr
		}
		return "", User{}, time.Time{}, ErrBadCredentials
	}
	token, th := newToken()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", u.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO sessions (token_hash, user_id, kind, created_at, last_seen_at, ip) VALUES (?, ?, ?, ?, ?, ?)",
			th, u.ID, kind, store.FormatTime(now), store.FormatTime(now), ip); err != nil {
			return err
		}
		entry.Outcome, entry.Detail = audit.OK, kind
		return audit.Append(ctx, tx, entry)
	})
	if err != nil {
		return "", User{}, time.Time{}, err
	}
	return token, u, now.Add(IdleTimeout), nil
}

// failUnknown counts a failed login for a username without an account and
// locks it exactly as a real account would be locked, so that 401 and 423
// answers do not reveal which usernames exist.
func (s *Service) failUnknown(ctx context.Context, username string, now time.Time, entry audit.Entry) error {
	if len(username) > 64 {
		username = username[:64]
	}
	var result error = ErrBadCredentials
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		var failures int
		var lockedUntil sql.NullString
		err := tx.QueryRow(ctx, "SELECT failures, locked_until FROM login_throttle WHERE username = ?", username).Scan(&failures, &lockedUntil)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		entry.Outcome, entry.Detail = audit.Failed, "unknown user"
		if lockedUntil.Valid {
			if until := store.MustTime(lockedUntil.String); now.Before(until) {
				result = &LockedError{until}
				entry.Outcome, entry.Detail = audit.Denied, "unknown user; locked"
				return audit.Append(ctx, tx, entry)
			}
		}
		failures++
		var until any
		if failures >= MaxFailures {
			t := now.Add(LockFor)
			until, failures, result = store.FormatTime(t), 0, &LockedError{t}
			entry.Detail += "; locked"
		}
		if _, err := tx.Exec(ctx, `INSERT INTO login_throttle (username, failures, locked_until) VALUES (?, ?, ?)
			ON CONFLICT (username) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until`, username, failures, until); err != nil {
			return err
		}
		return audit.Append(ctx, tx, entry)
	})
	if err != nil {
		return err
	}
	return result
}

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password of anyone"), bcrypt.MinCost)

func newToken() (token, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns the user behind a session secret, ending the
// session when it has been idle for IdleTimeout.
func (s *Service) Authenticate(ctx context.Context, token string) (User, error) {
	if token == "" {
		return User{}, ErrNoSession
	}
	now := s.now()
	th := hashToken(token)
	var u User
	var lastSeen string
	var disabled bool
	err := s.DB.QueryRow(ctx, `SELECT u.id, u.username, u.display_name, u.role, u.area_code, u.disabled, s.last_seen_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`, th).
		Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.AreaCode, &disabled, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNoSession
	}
	if err != nil {
		return User{}, err
	}
	seen := store.MustTime(lastSeen)
	if disabled || now.Sub(seen) >= IdleTimeout {
		_, _ = s.DB.Exec(ctx, "DELETE FROM sessions WHERE token_hash = ?", th)
		return User{}, ErrNoSession
	}
	if now.Sub(seen) >= touchEvery {
		if _, err := s.DB.Exec(ctx, "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", store.FormatTime(now), th); err != nil {
			return User{}, err
		}
	}
	return u, nil
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, token string) error {
	_, err := s.DB.Exec(ctx, "DELETE FROM sessions WHERE token_hash = ?", hashToken(token))
	return err
}

// Get returns an account by id.
func (s *Service) Get(ctx context.Context, id int64) (User, error) {
	var u User
	err := s.DB.QueryRow(ctx, "SELECT id, username, display_name, role, area_code FROM users WHERE id = ?", id).
		Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.AreaCode)
	if errors.Is(err, sql.ErrNoRows) {
		return u, store.ErrNotFound
	}
	return u, err
}

// CountUsers tells whether the system has any account yet.
func (s *Service) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM users").Scan(&n)
	return n, err
}
