import AuthModels
import DiscordModels

/// A linked member as an audit sees it: the Auth record and the member's current state.
public struct LinkedMember: Sendable, Hashable {
    public var user: AuthUser
    public var member: GuildMember

    public init(user: AuthUser, member: GuildMember) {
        self.user = user
        self.member = member
    }
}

extension MemberPlanner {
    /// A full audit (SPEC 1.5): plans every linked member with this planner's one set of guild-wide
    /// lookups and returns only the plans that need attention (a write, a skip or revoked access), in
    /// input order. Members already in sync cost a few dictionary look-ups and no copies.
    public func audit(_ members: [LinkedMember]) -> [MemberPlan] {
        var plans: [MemberPlan] = []
        members.withUnsafeBufferPointer { members in  // borrows each element: no copies of in-sync members
            for index in members.indices where !isInSync(members[index].user, member: members[index].member) {
                let plan = plan(for: members[index].user, member: members[index].member)
                if !plan.isInSync { plans.append(plan) }
            }
        }
        return plans
    }
}
