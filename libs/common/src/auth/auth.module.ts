import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { JwtRolesGuard } from './auth.guard';
import { assertAuthOptions, type AuthOptions } from './auth.options';
import { AUTH_OPTIONS, JwtStrategy } from './jwt.strategy';

/** Secures every route of the importing application: JWT bearer tokens and `@Roles`. */
@Module({})
export class AuthModule {
  static forRoot(options: AuthOptions): DynamicModule {
    assertAuthOptions(options);
    return {
      module: AuthModule,
      imports: [PassportModule.register({ session: false })],
      providers: [
        { provide: AUTH_OPTIONS, useValue: options },
        JwtStrategy,
        { provide: APP_GUARD, useClass: JwtRolesGuard },
      ],
    };
  }
}
